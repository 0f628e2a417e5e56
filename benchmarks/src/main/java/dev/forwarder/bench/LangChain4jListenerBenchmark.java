package dev.forwarder.bench;

import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.langchain4j.ForwardingChatModelListener;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the LangChain4j listener adds to a chat model call: {@code onRequest} then {@code onResponse} for a
 * typical call (a system prompt, a ~600-character user question, temperature and max tokens set, a
 * ~400-character answer with token usage), which builds the model and chat inference records and publishes
 * both. Against it, in the same run: handing the same two records, already serialised, to a bare
 * {@code KafkaProducer.send()} with the forwarder's producer settings, the least a service writing to Kafka
 * itself would pay. Broker up (a real broker, child process) or down (the forwarder spools; send() blocks
 * once its buffer is full).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LangChain4jListener}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Threads(1)
public class LangChain4jListenerBenchmark {

    @Param({"up", "down"})
    public String broker;

    private PublishRig rig;
    private Forwarder forwarder;
    private ForwardingChatModelListener listener;
    private KafkaProducer<byte[], byte[]> producer;
    private ChatRequest request;
    private ChatResponse response;
    private byte[] modelJson;
    private byte[] chatJson;
    private byte[] modelKey;
    private byte[] chatKey;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new PublishRig(broker, "langchain4j", spool -> "");
        forwarder = rig.forwarder;
        producer = rig.producer;
        listener = new ForwardingChatModelListener(forwarder, "support_bot");
        String question = "I ordered a pair of running shoes three weeks ago and the tracking page has said "
                + "'label created' ever since. The order number is 48213-77. I would like to know whether the "
                + "parcel was lost, whether you can send a replacement in size 44 before the end of next week, "
                + "and, if not, how I can get a refund to the card I paid with. I have already written twice "
                + "through the contact form without an answer. Please also tell me whether the replacement "
                + "would ship from the same warehouse, since I would rather not wait another three weeks.";
        String answer = "I am sorry about the delay. Order 48213-77 never left our warehouse: the carrier did "
                + "not collect it. I have sent a replacement pair in size 44 by express delivery today; it "
                + "should arrive within three working days and you will get a new tracking link by email. "
                + "If you would rather have a refund, reply to that email and it will go to your card.";
        request = ChatRequest.builder()
                .messages(
                        SystemMessage.from("You are the customer support assistant of a shoe shop."),
                        UserMessage.from(question))
                .parameters(ChatRequestParameters.builder()
                        .modelName("gpt-4o-mini")
                        .temperature(0.2)
                        .maxOutputTokens(400)
                        .build())
                .build();
        response = ChatResponse.builder()
                .aiMessage(AiMessage.from(answer))
                .id("chatcmpl-B7")
                .modelName("gpt-4o-mini-2024-07-18")
                .tokenUsage(new TokenUsage(96, 82))
                .finishReason(FinishReason.STOP)
                .build();

        // The same two records, serialised once, for the bare producer.
        Map<Object, Object> attributes = new HashMap<>();
        listener.onRequest(new ChatModelRequestContext(request, ModelProvider.OPEN_AI, attributes));
        List<InferenceRecord> records =
                listener.records(new ChatModelResponseContext(response, request, ModelProvider.OPEN_AI, attributes));
        EventCodec codec = new EventCodec();
        modelJson = codec.serialize(records.get(0));
        chatJson = codec.serialize(records.get(1));
        modelKey = ((ModelInference) records.get(0)).id().toString().getBytes(StandardCharsets.UTF_8);
        chatKey = ((ChatInference) records.get(1)).id().toString().getBytes(StandardCharsets.UTF_8);
        System.out.println(
                "records: model_inference " + modelJson.length + " B, chat_inference " + chatJson.length + " B");
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Benchmark
    public void listener() {
        Map<Object, Object> attributes = new HashMap<>();
        listener.onRequest(new ChatModelRequestContext(request, ModelProvider.OPEN_AI, attributes));
        listener.onResponse(new ChatModelResponseContext(response, request, ModelProvider.OPEN_AI, attributes));
    }

    @Benchmark
    public void kafkaProducerSendTwo() {
        try {
            producer.send(new ProducerRecord<>(DataType.MODEL_INFERENCE.topic("bare"), modelKey, modelJson));
            producer.send(new ProducerRecord<>(DataType.CHAT_INFERENCE.topic("bare"), chatKey, chatJson));
        } catch (TimeoutException e) {
            // broker down and buffer full: send blocked max.block.ms, then gave up
        }
    }
}
