package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
 * End-to-end latency of one record at a time, on a real broker (child process): from the hand-over until
 * Kafka has it for good. {@code forwarder}: publish(), then until the checkpoint covers the record (at least
 * once: acknowledged; exactly once: its transaction committed, so a read_committed consumer can read it).
 * {@code bareProducer}: send(), then the future's get() (acknowledged), with the forwarder's producer
 * settings (linger.ms = 10). A ~1 KB chat_inference; default settings otherwise (linger_ms = 10).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar EndToEndLatency}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class EndToEndLatencyBenchmark {

    @Param({"at_least_once", "exactly_once"})
    public String delivery;

    private KafkaBroker kafka;
    private Forwarder forwarder;
    private KafkaProducer<byte[], byte[]> producer;
    private Path spool;
    private byte[] json;
    private byte[] key;
    private String bareTopic;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        kafka = BenchmarkBroker.start();
        String prefix = BenchmarkBroker.freshTopics(kafka);
        spool = BenchmarkBroker.tempDir("e2e");
        forwarder = Forwarder.start(TestConfig.forBroker(kafka, spool)
                .prefix(prefix)
                .with("gateway.observability.kafka.delivery = " + delivery)
                .build());
        String id = Records.id(UUID.randomUUID(), 1);
        json = Records.json(DataType.CHAT_INFERENCE, id);
        key = id.getBytes(StandardCharsets.UTF_8);
        bareTopic = DataType.CHAT_INFERENCE.topic(BenchmarkBroker.freshTopics(kafka));
        producer = BenchmarkBroker.bareProducer(kafka.bootstrapServers());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        producer.close();
        forwarder.close();
        BenchmarkBroker.delete(spool);
        kafka.close();
    }

    @Benchmark
    public long forwarder() {
        long index = forwarder.publish(DataType.CHAT_INFERENCE, json).spoolIndex();
        while (forwarder.status().checkpoint() < index) {
            LockSupport.parkNanos(100_000);
        }
        return index;
    }

    @Benchmark
    public Object bareProducer() throws Exception {
        return producer.send(new ProducerRecord<>(bareTopic, key, json)).get();
    }
}
