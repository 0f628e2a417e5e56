package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.PublishResult;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
 * The first call of a process: {@code target=publish}, the first {@code publish} after {@code Forwarder.start}
 * returned (broker up); {@code target=send}, the first {@code KafkaProducer.send()} of a bare producer built
 * with the forwarder's producer settings, the baseline (it waits for the topic's metadata). One call per fork,
 * in a fresh JVM each (no warm-up: the first call is the point), the same ~1 KB chat_inference record; the
 * broker is a child process started before either is built. The score is the mean of the forks' single calls.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar FirstCall} (10 forks per target).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(10)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
public class FirstCallBenchmark {

    @Param({"publish", "send"})
    public String target;

    private KafkaBroker kafka;
    private Path spool;
    private Forwarder forwarder;
    private KafkaProducer<byte[], byte[]> producer;
    private String topic;
    private byte[] json;
    private byte[] key;
    private Future<RecordMetadata> sent;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        kafka = BenchmarkBroker.start();
        String id = Records.id(UUID.randomUUID(), 0);
        json = Records.json(DataType.CHAT_INFERENCE, id);
        key = id.getBytes(StandardCharsets.UTF_8);
        if (target.equals("publish")) {
            spool = BenchmarkBroker.tempDir("first-call");
            forwarder = Forwarder.start(TestConfig.forBroker(kafka.bootstrapServers(), spool)
                    .with("gateway.observability.kafka.spool.drain_timeout_ms = 1000")
                    .build());
        } else {
            topic = DataType.CHAT_INFERENCE.topic("bare");
            producer = BenchmarkBroker.bareProducer(kafka.bootstrapServers());
        }
    }

    @Benchmark
    public Object firstCall() {
        if (forwarder != null) {
            PublishResult r = forwarder.publish(DataType.CHAT_INFERENCE, json);
            if (!r.accepted()) {
                throw new IllegalStateException("the first publish was not accepted: " + r);
            }
            return r;
        }
        sent = producer.send(new ProducerRecord<>(topic, key, json));
        return sent;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        try {
            if (forwarder != null) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (forwarder.status().delivered() < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                long delivered = forwarder.status().delivered();
                forwarder.close();
                BenchmarkBroker.delete(spool);
                if (delivered != 1) {
                    throw new IllegalStateException("the record did not reach Kafka: " + delivered + " delivered");
                }
            } else {
                sent.get(60, TimeUnit.SECONDS);
                producer.close(Duration.ofSeconds(10));
            }
        } finally {
            kafka.close();
        }
    }
}
