package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.spool.OpenSpool;
import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
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
 * A process that starts on a spool holding a large backlog (10,000,000 ~1 KB records, about 10 GB, appended
 * while Kafka was away) in a heap of 128 MB: how long from {@code Forwarder.start} until the first publish is
 * accepted and until the first record reaches Kafka, then the drain of the whole backlog (rate), and the live
 * heap at the quarter points of the drain (after a full GC; the largest). The spool is memory-mapped and
 * off-heap; the heap must not grow with the backlog. Then, in the same heap and run, a bare {@code KafkaProducer}
 * with the forwarder's producer settings sends the same records: the drain's rate as a ratio of its.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LargeBacklog} (a few minutes: writing the backlog is
 * not measured; about 10 GB of free disk under {@code java.io.tmpdir}). The figures are printed as one line
 * and appended to {@code benchmarks/results/latest/large-backlog.txt}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx128m"})
@Warmup(iterations = 0)
@Measurement(iterations = 1, batchSize = 1)
public class LargeBacklogBenchmark {

    @Param({"10000000"})
    public int backlog;

    /**
     * true: a forwarder ran on the spool before the backlog was appended (the usual case, an outage), so its
     * sealing log is complete and the start need not read the backlog; false: the backlog was written with no
     * forwarder ever started (a spool from before the sealing log), so the start reads every record.
     */
    @Param({"true", "false"})
    public boolean forwardedBefore;

    private KafkaBroker kafka;
    private Path spool;
    private ForwarderConfig config;
    private long lastIndex;

    @Setup(Level.Trial)
    public void startBroker() {
        kafka = BenchmarkBroker.start();
    }

    @TearDown(Level.Trial)
    public void stopBroker() {
        kafka.close();
    }

    @Setup(Level.Iteration)
    public void spoolBacklog() throws Exception {
        spool = BenchmarkBroker.tempDir("large-backlog");
        config = TestConfig.forBroker(kafka, spool)
                .prefix(BenchmarkBroker.freshTopics(kafka))
                .with("gateway.observability.kafka.spool.max_bytes = 64GiB\n")
                .build();
        long started = System.nanoTime();
        RollPeriod roll = RollPeriod.of(config.kafka().spool().rollCycle());
        if (forwardedBefore) {
            OpenSpool.open(config.kafka(), true, roll).close();
        }
        try (OpenSpool appender = OpenSpool.open(config.kafka(), false, roll)) {
            Spool s = appender.spool();
            lastIndex = BenchmarkBroker.appendBacklog(s, backlog);
        }
        System.out.printf(
                Locale.ROOT,
                "%nbacklog of %,d records spooled in %.1f s%n",
                backlog,
                (System.nanoTime() - started) / 1e9);
        System.gc();
    }

    @TearDown(Level.Iteration)
    public void deleteSpool() throws Exception {
        BenchmarkBroker.delete(spool);
    }

    @Benchmark
    public void startAndDrain() throws Exception {
        byte[] probe = Records.json(DataType.CHAT_INFERENCE, UUID.randomUUID().toString());
        long start = System.nanoTime();
        long accepted;
        long firstForwarded = 0;
        long peakHeap = 0;
        long drained;
        try (Forwarder forwarder = Forwarder.start(config)) {
            long returned = System.nanoTime();
            PublishResult result = forwarder.publish(DataType.CHAT_INFERENCE, probe);
            accepted = System.nanoTime();
            if (!result.accepted()) {
                throw new IllegalStateException("the first publish was refused: " + result);
            }
            long target = result.spoolIndex();
            int nextQuarter = 1;
            ForwarderStatus status;
            while ((status = forwarder.status()).checkpoint() < target) {
                if (firstForwarded == 0 && status.delivered() > 0) {
                    firstForwarded = System.nanoTime();
                }
                if (nextQuarter < 4 && status.delivered() >= (long) backlog * nextQuarter / 4) {
                    System.gc();
                    peakHeap = Math.max(
                            peakHeap,
                            ManagementFactory.getMemoryMXBean()
                                    .getHeapMemoryUsage()
                                    .getUsed());
                    nextQuarter++;
                }
                LockSupport.parkNanos(firstForwarded == 0 ? 100_000 : 10_000_000);
            }
            drained = System.nanoTime();
            if (status.delivered() < backlog + 1L) {
                throw new IllegalStateException("delivered " + status.delivered() + " of " + (backlog + 1));
            }
            System.out.printf(Locale.ROOT, "(start returned after %.1f ms)%n", (returned - start) / 1e6);
        }
        double bareSeconds = bareSend() / 1e9;
        double forwarderRate = (backlog + 1) / ((drained - start) / 1e9);
        double bareRate = backlog / bareSeconds;
        BenchmarkBroker.report(
                "large-backlog.txt",
                String.format(
                        Locale.ROOT,
                        "large backlog of %,d records (forwarded before: %s), -Xmx128m: start to first publish accepted %.1f ms, to first "
                                + "record in Kafka %.1f ms; drained in %.1f s (%,.0f records/s, start included); the "
                                + "bare producer sent the same records in %.1f s (%,.0f records/s): %.2fx; live heap "
                                + "at the drain's quarters at most %d MiB",
                        backlog,
                        forwardedBefore,
                        (accepted - start) / 1e6,
                        (firstForwarded - start) / 1e6,
                        (drained - start) / 1e9,
                        forwarderRate,
                        bareSeconds,
                        bareRate,
                        forwarderRate / bareRate,
                        peakHeap >> 20));
    }

    /**
     * The same records sent by a bare {@code KafkaProducer} with the forwarder's producer settings to topics of
     * the same three partitions, in the same heap: nanoseconds from the first send to the last acknowledgement.
     */
    private long bareSend() throws Exception {
        String prefix = BenchmarkBroker.freshTopics(kafka);
        UUID run = UUID.randomUUID();
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = BenchmarkBroker.bareProducer(kafka.bootstrapServers())) {
            for (int i = 0; i < backlog; i++) {
                String id = Records.id(run, i);
                DataType type = Records.typeOf(i);
                producer.send(new ProducerRecord<>(
                        type.topic(prefix), id.getBytes(StandardCharsets.UTF_8), Records.json(type, id)));
            }
            producer.flush();
        }
        return System.nanoTime() - start;
    }
}
