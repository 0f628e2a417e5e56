package dev.forwarder.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.json.RecordWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A typed {@code publish(ChatInference)} of about 2 KB (a system prompt, a question and an answer, parameters,
 * tags), against the same record's bytes published as JSON, and {@code send()} of those bytes in the same run.
 * Beside them, serialisation alone, three ways, the same bytes each: Jackson's {@code writeValueAsBytes} with
 * the codec's mapper (what a typed publish did before), the same with Jackson's Blackbird module (generated
 * accessors instead of reflection), and the forwarder's {@link RecordWriter} (into a kept buffer).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TypedPublish -p broker=down -prof gc} (sample time:
 * p50 and the tail; {@code gc.alloc.rate.norm}: bytes per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class TypedPublishBenchmark {

    @Param({"down", "up"})
    public String broker;

    private PublishRig rig;
    private ChatInference record;
    private byte[] json;
    private byte[] key;
    private ObjectMapper jackson;
    private ObjectMapper blackbird;
    private RecordWriter writer;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new PublishRig(broker, "typed", spool -> "");
        record = record();
        EventCodec codec = new EventCodec();
        json = codec.serialize(record);
        key = record.id().toString().getBytes(StandardCharsets.UTF_8);
        jackson = codec.mapper();
        blackbird = codec.mapper().copy().registerModule(new BlackbirdModule());
        writer = codec.newWriter();
        if (!Arrays.equals(json, blackbird.writeValueAsBytes(record))
                || !writer.write(record)
                || !Arrays.equals(json, Arrays.copyOf(writer.bytes(), writer.length()))) {
            throw new IllegalStateException("the three serialisations differ");
        }
        System.out.println("record: chat_inference " + json.length + " B");
    }

    /** A ~2 KB chat inference as a support bot's call makes one. */
    static ChatInference record() {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ObjectNode input = nodes.objectNode();
        input.put("system", "You are the customer support assistant of a shoe shop. Answer briefly and kindly.");
        ObjectNode user = input.putArray("messages").addObject().put("role", "user");
        user.putArray("content")
                .addObject()
                .put("type", "text")
                .put(
                        "text",
                        "I ordered a pair of running shoes "
                                + "three weeks ago and the tracking page has said 'label created' ever since. The order number is "
                                + "48213-77. I would like to know whether the parcel was lost, whether you can send a replacement "
                                + "in size 44 before the end of next week, and, if not, how I can get a refund to the card I paid "
                                + "with. I have already written twice through the contact form without an answer. Please also "
                                + "tell me whether the replacement would ship from the same warehouse, since I would rather not "
                                + "wait another three weeks.");
        ObjectNode output = nodes.objectNode()
                .put("type", "text")
                .put(
                        "text",
                        "I am sorry about the delay. Order "
                                + "48213-77 never left our warehouse: the carrier did not collect it. I have sent a replacement pair "
                                + "in size 44 by express delivery today; it should arrive within three working days and you will "
                                + "get a new tracking link by email. If you would rather have a refund, reply to that email and it "
                                + "will go to your card. The replacement ships from our Rotterdam warehouse, which hands parcels to "
                                + "the carrier every afternoon, so this one will not wait.");
        ObjectNode params = nodes.objectNode();
        params.putObject("chat_completion")
                .put("temperature", 0.2)
                .put("max_tokens", 400)
                .put("seed", 42);
        return new ChatInference(
                UUID.fromString("0192f3a1-7b90-7c3a-8e21-5d4c3b2a1f00"),
                "support_bot",
                "gpt-4o-mini",
                UUID.fromString("0192f3a1-6a00-7000-8000-0123456789ab"),
                input,
                nodes.arrayNode().add(output),
                null,
                params,
                1_234L,
                312L,
                Map.of("customer_tier", "gold", "channel", "web"),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Benchmark
    public PublishResult publishTyped() {
        return rig.forwarder.publish(record);
    }

    @Benchmark
    public PublishResult publishSameBytes() {
        return rig.forwarder.publish(DataType.CHAT_INFERENCE, json);
    }

    @Benchmark
    public Future<RecordMetadata> kafkaProducerSend() {
        try {
            return rig.producer.send(new ProducerRecord<>("bare_chat_inference", key, json));
        } catch (TimeoutException e) {
            return null; // broker down and buffer full: send blocked max.block.ms, then gave up
        }
    }

    @Benchmark
    public byte[] serialiseJackson() throws IOException {
        return jackson.writeValueAsBytes(record);
    }

    @Benchmark
    public byte[] serialiseBlackbird() throws IOException {
        return blackbird.writeValueAsBytes(record);
    }

    @Benchmark
    public int serialiseRecordWriter() throws IOException {
        writer.write(record);
        return writer.length();
    }
}
