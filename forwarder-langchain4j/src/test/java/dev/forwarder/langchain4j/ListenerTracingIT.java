package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The records of a model call carry the trace context of the thread that made the call: a blocking call's,
 * and a streamed call's too, though LangChain4j answers a stream on its HTTP client's thread.
 */
@KafkaTest
class ListenerTracingIT {

    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

    @Test
    void blockingAndStreamedCallsCarryTheCallersTraceContext(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "lct" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .build();
        try (StubOpenAi stub = new StubOpenAi();
                Forwarder forwarder = Forwarder.start(config)) {
            ForwardingChatModelListener listener = new ForwardingChatModelListener(forwarder);
            ChatModel model = stub.chatModel(listener);
            StreamingChatModel streaming = stub.streamingModel(listener);
            try (Scope scope = span("00f067aa0ba902b7").makeCurrent()) {
                model.chat("What is the capital of France?");
            }
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            try (Scope scope = span("00f067aa0ba902b8").makeCurrent()) {
                streaming.chat("Say hello in French", new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partialResponse) {}

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
            }
            done.get(30, TimeUnit.SECONDS);
            model.chat("Hello"); // no span
        }
        for (DataType type : List.of(DataType.MODEL_INFERENCE, DataType.CHAT_INFERENCE)) {
            List<String> parents = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r :
                    TopicReader.readAll(broker.clientProperties(), type.topic(prefix), 3)) {
                Header h = r.headers().lastHeader("traceparent");
                parents.add(h == null ? null : new String(h.value(), StandardCharsets.UTF_8));
            }
            parents.sort((a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
            assertEquals(
                    List.of("00-" + TRACE + "-00f067aa0ba902b7-01", "00-" + TRACE + "-00f067aa0ba902b8-01"),
                    parents.subList(0, 2),
                    type + ": the blocking call's and the stream's");
            assertNull(parents.get(2), type + ": the call made without a span has none");
        }
    }

    private static Span span(String spanId) {
        return Span.wrap(SpanContext.create(TRACE, spanId, TraceFlags.getSampled(), TraceState.getDefault()));
    }
}
