package dev.forwarder.bench;

import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The request path: how long the caller waits to hand over one inference record.
 *
 * <p>Workload: a ~1 KB chat_inference, published (a) pre-serialised through {@code Forwarder.publish(type,
 * bytes)}, (b) as a typed {@link ChatInference}, serialisation included, and (c) handed to a bare
 * {@code KafkaProducer.send()} with the forwarder's producer settings (acks=all, idempotence, lz4,
 * linger.ms=10), {@code max.block.ms} = 1000. With {@code broker=up} a real broker (child process) takes
 * the records and the forwarder forwards them meanwhile; with {@code broker=down} nothing listens: the
 * forwarder spools, and send() blocks once the producer's 32 MiB buffer is full. Sample-time mode reports
 * the latency distribution (p50 .. p99.99) of each call. (a) also runs from four threads at once. With
 * {@code encryption=on} the spool seals each payload with AES-GCM ({@code spool.encryption}).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PublishLatency} (benchmarks/run.sh runs it
 * with the rest). Each trial writes some GB to a temporary spool, deleted at its end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Threads(1)
public class PublishLatencyBenchmark {

    @Param({"up", "down"})
    public String broker;

    /** {@code on}: {@code spool.encryption} with a 256-bit key (AES-GCM per record); the bare send is the same either way. */
    @Param({"off", "on"})
    public String encryption;

    private PublishRig rig;
    private Forwarder forwarder;
    private KafkaProducer<byte[], byte[]> producer;
    private byte[] json;
    private byte[] key;
    private String topic;
    private ChatInference record;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new PublishRig(
                broker, "publish", spool -> encryption.equals("on") ? BenchmarkBroker.encryptionSetting(spool) : "");
        forwarder = rig.forwarder;
        producer = rig.producer;
        String id = Records.id(UUID.randomUUID(), 1);
        json = Records.json(DataType.CHAT_INFERENCE, id);
        key = id.getBytes(StandardCharsets.UTF_8);
        topic = DataType.CHAT_INFERENCE.topic("bare");
        record = (ChatInference) new EventCodec().parse(DataType.CHAT_INFERENCE, json);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Benchmark
    public PublishResult forwarderPublishPreSerialised() {
        return forwarder.publish(DataType.CHAT_INFERENCE, json);
    }

    /** (a) from four threads at once (the machine has two cores). */
    @Benchmark
    @Threads(4)
    public PublishResult forwarderPublishPreSerialised4Threads() {
        return forwarder.publish(DataType.CHAT_INFERENCE, json);
    }

    @Benchmark
    public PublishResult forwarderPublishTyped() {
        return forwarder.publish(record);
    }

    @Benchmark
    public Future<RecordMetadata> kafkaProducerSend() {
        try {
            return producer.send(new ProducerRecord<>(topic, key, json));
        } catch (TimeoutException e) {
            return null; // broker down and buffer full: send blocked max.block.ms, then gave up
        }
    }
}
