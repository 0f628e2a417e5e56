package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.listener.ChatModelErrorContext;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whatever LangChain4j hands it, the listener does not throw into the call; what it could not record is counted. */
class ListenerNeverThrowsTest {

    private static Forwarder spoolOnly(Path dir) {
        return Forwarder.start(ForwarderConfig.parse("gateway.observability.kafka { brokers = \"127.0.0.1:1\","
                + " startup { require_connection = false, timeout_ms = 500 }, spool.dir = \"" + dir
                + "\", spool.drain_timeout_ms = 200 }"));
    }

    @Test
    void aResponseItCannotReadIsCountedNotThrown(@TempDir Path dir) {
        try (Forwarder forwarder = spoolOnly(dir)) {
            ForwardingChatModelListener listener = new ForwardingChatModelListener(forwarder);
            ChatResponse response =
                    ChatResponse.builder().aiMessage(AiMessage.from("hi")).build();
            ChatRequest request =
                    ChatRequest.builder().messages(UserMessage.from("hello")).build();
            // A context that fails when read (a custom model's): LangChain4j's call must not see it.
            listener.onResponse(new ChatModelResponseContext(response, request, ModelProvider.OTHER, new HashMap<>()) {
                @Override
                public ChatRequest chatRequest() {
                    throw new IllegalStateException("broken context");
                }
            });
            listener.onError(new ChatModelErrorContext(new RuntimeException("boom"), request, null, new HashMap<>()));
            assertEquals(
                    1,
                    forwarder
                            .counter("forwarder_langchain4j_recording_failures", Map.of())
                            .getCount());
            assertEquals(
                    1,
                    forwarder
                            .counter("forwarder_langchain4j_errors", Map.of("provider", "unknown"))
                            .getCount());
            assertEquals(0, forwarder.status().appended());
        }
    }

    @Test
    void aClosedForwarderDropsAndCountsWithoutThrowing(@TempDir Path dir) {
        Forwarder forwarder = spoolOnly(dir);
        ForwardingChatModelListener listener = new ForwardingChatModelListener(forwarder);
        forwarder.close();
        ChatRequest request =
                ChatRequest.builder().messages(UserMessage.from("hello")).build();
        Map<Object, Object> attributes = new HashMap<>();
        listener.onRequest(new ChatModelRequestContext(request, ModelProvider.OPEN_AI, attributes));
        listener.onResponse(new ChatModelResponseContext(
                ChatResponse.builder().aiMessage(AiMessage.from("hi")).build(),
                request,
                ModelProvider.OPEN_AI,
                attributes));
        assertEquals(
                2,
                forwarder.status().dropped().values().stream()
                        .mapToLong(Long::longValue)
                        .sum());
        assertEquals(
                0,
                forwarder
                        .counter("forwarder_langchain4j_recording_failures", Map.of())
                        .getCount());
    }
}
