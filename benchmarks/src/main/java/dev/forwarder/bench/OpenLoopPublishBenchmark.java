package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The request path at a real rate, without coordinated omission: calls are made at a fixed rate
 * ({@code rate} per second, one thread), the time of each is fixed in advance, and its latency counts from
 * that time, so a stall is charged to every call it delays (an HdrHistogram per iteration). Sample-time
 * benchmarks measure calls back to back and hide such stalls.
 *
 * <p>{@code target=publish}: {@code Forwarder.publish(DataType, byte[])} of a ~1 KB chat_inference (the
 * forwarder forwarding meanwhile when the broker is up); {@code target=send}: a bare {@code KafkaProducer.send()}
 * of the same bytes with the forwarder's producer settings ({@code max.block.ms} = 1000), in the same run.
 * {@code broker=down}: nothing listens; the forwarder spools, send() blocks once its buffer is full.
 * {@code encryption=on}: {@code spool.encryption} (publish only).
 *
 * <p>Each measurement iteration is one run of {@code seconds}; the percentiles are printed after it (in
 * microseconds) and written to {@code benchmarks/results/latest/open-loop.txt}. JMH's own score is the run's
 * wall time and means nothing here. Three warm-up runs (30 s): with one, the JIT's compiler threads were still
 * the largest part of the background CPU in the measured runs (publish's larger code base compiles for longer:
 * 9 - 11 µs a call in the second run, 4.5 - 6.5 in the third), which is start-up, not the request path.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar OpenLoopPublish}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3)
@Measurement(iterations = 3)
public class OpenLoopPublishBenchmark {

    @Param({"publish", "send"})
    public String target;

    @Param({"up", "down"})
    public String broker;

    @Param({"off"})
    public String encryption;

    /** {@code compression_type} of the forwarder and {@code compression.type} of the bare producer. */
    @Param({"lz4"})
    public String compression;

    @Param({"20000"})
    public int rate;

    @Param({"10"})
    public int seconds;

    private KafkaBroker kafka;
    private Forwarder forwarder;
    private KafkaProducer<byte[], byte[]> producer;
    private Path spool;
    /** Distinct records, so that keys do not repeat within a window ({@link DistinctRecords}). */
    private DistinctRecords records;

    private String topic;
    private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private int iteration;
    /** The slowest call of the iteration: its latency, the call's own part of it, when it was due (UTC). */
    private long worstNanos;

    private long worstOwnNanos;
    private long worstAtEpochMs;
    /** The same for the calls due after the run's first second (the start-up's calls left out). */
    private final Slowest settled = new Slowest();
    /** The same for the calls due within a second of an hour's start (the hourly roll), if the run crossed one. */
    private final Slowest atRoll = new Slowest();

    private String cpu = "";

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        String brokers;
        if (broker.equals("up")) {
            kafka = BenchmarkBroker.start();
            brokers = kafka.bootstrapServers();
        } else {
            brokers = BenchmarkBroker.nowhere();
        }
        records = new DistinctRecords();
        // send() writes a topic of three partitions, as the forwarder's own (topics.partitions = 3): a topic of
        // one, auto-created, made a third of the batches (each with its 128 KB of LZ4 buffers) of the forwarder.
        topic = DataType.CHAT_INFERENCE.topic(
                target.equals("send") && kafka != null ? BenchmarkBroker.freshTopics(kafka) : "bare");
        if (target.equals("publish")) {
            spool = BenchmarkBroker.tempDir("open-loop");
            forwarder = Forwarder.start(TestConfig.forBroker(brokers, spool)
                    .with("gateway.observability.kafka {\n"
                            + "  startup.require_connection = " + broker.equals("up") + "\n"
                            + "  spool.drain_timeout_ms = 1000\n"
                            + "  compression_type = " + compression + "\n"
                            + (encryption.equals("on") ? BenchmarkBroker.encryptionSetting(spool) : "")
                            + "}")
                    .build());
        } else {
            producer = BenchmarkBroker.bareProducer(brokers, compression);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (producer != null) {
            producer.close(Duration.ZERO);
        }
        if (forwarder != null) {
            forwarder.close();
            BenchmarkBroker.delete(spool);
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Setup(Level.Iteration)
    public void resetHistogram() {
        histogram.reset();
    }

    /** One run: {@code rate × seconds} calls, each at its scheduled time; latency from that time. */
    @Benchmark
    public long run() {
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long calls = (long) rate * seconds;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        boolean publish = target.equals("publish");
        long accepted = 0;
        long epochAtStart = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        worstNanos = 0;
        settled.reset();
        atRoll.reset();
        long giveUp = start + 2 * TimeUnit.SECONDS.toNanos(seconds);
        CpuAccount account = new CpuAccount();
        long made = 0;
        long inCalls = 0;
        for (long i = 0; i < calls; i++) {
            long scheduled = start + i * interval;
            long now = System.nanoTime();
            if (now - giveUp > 0) {
                // So far behind (send() blocking on a full buffer) that finishing would take hours: the calls
                // not made are charged what they have waited already, a lower bound of their latency.
                for (long j = i; j < calls; j++) {
                    histogram.recordValue(Math.max(0, now - (start + j * interval)));
                }
                break;
            }
            long wait;
            while ((wait = scheduled - System.nanoTime()) > 0) {
                if (wait > 100_000) {
                    LockSupport.parkNanos(wait - 80_000); // sleep most of the gap, spin the rest
                }
            }
            long callStart = System.nanoTime();
            if (publish) {
                accepted += forwarder
                                .publish(DataType.CHAT_INFERENCE, records.json(i))
                                .accepted()
                        ? 1
                        : 0;
            } else {
                try {
                    producer.send(new ProducerRecord<>(topic, records.key(i), records.json(i)));
                    accepted++;
                } catch (TimeoutException e) {
                    // broker down, buffer full: send blocked max.block.ms, then gave up
                }
            }
            long end = System.nanoTime();
            inCalls += end - callStart;
            histogram.recordValue(Math.max(0, end - scheduled));
            if (end - scheduled > worstNanos) {
                worstNanos = end - scheduled;
                worstOwnNanos = end - callStart;
                worstAtEpochMs = epochAtStart + TimeUnit.NANOSECONDS.toMillis(scheduled - startNanos);
            }
            long dueEpochMs = epochAtStart + TimeUnit.NANOSECONDS.toMillis(scheduled - startNanos);
            if (scheduled - start >= TimeUnit.SECONDS.toNanos(1)) {
                settled.offer(end - scheduled, end - callStart, dueEpochMs);
            }
            long intoHour = Math.floorMod(dueEpochMs, TimeUnit.HOURS.toMillis(1));
            if (intoHour < 1000 || intoHour >= TimeUnit.HOURS.toMillis(1) - 1000) {
                atRoll.offer(end - scheduled, end - callStart, dueEpochMs);
            }
            made++;
        }
        cpu = account.report(Math.max(1, made), inCalls);
        if (publish) {
            ForwarderStatus end = forwarder.status();
            cpu += String.format("; at the end: backlog %d, delivered %d", end.backlog(), end.delivered());
        }
        return accepted;
    }

    @TearDown(Level.Iteration)
    public void report() throws IOException {
        iteration++;
        String line = String.format(
                "open-loop target=%s broker=%s encryption=%s compression=%s rate=%d/s seconds=%d iteration=%d:"
                        + " count=%d p50=%.2fus p90=%.2fus p99=%.2fus p99.9=%.2fus p99.99=%.2fus max=%.2fus"
                        + " (due %s, the call itself %.2fus); after the first second: %s; within a second of an"
                        + " hour's start (the roll): %s; %s",
                target,
                broker,
                encryption,
                compression,
                rate,
                seconds,
                iteration,
                histogram.getTotalCount(),
                us(50),
                us(90),
                us(99),
                us(99.9),
                us(99.99),
                histogram.getMaxValue() / 1000.0,
                Instant.ofEpochMilli(worstAtEpochMs),
                worstOwnNanos / 1000.0,
                settled,
                atRoll,
                cpu);
        BenchmarkBroker.report("open-loop.txt", line);
    }

    /** The slowest call of a kind: its latency, its own part, when it was due. */
    private static final class Slowest {
        private long nanos = -1;
        private long ownNanos;
        private long dueEpochMs;

        void reset() {
            nanos = -1;
        }

        void offer(long latency, long own, long due) {
            if (latency > nanos) {
                nanos = latency;
                ownNanos = own;
                dueEpochMs = due;
            }
        }

        @Override
        public String toString() {
            return nanos < 0
                    ? "none"
                    : String.format(
                            "max=%.2fus (due %s, the call itself %.2fus)",
                            nanos / 1000.0, Instant.ofEpochMilli(dueEpochMs), ownNanos / 1000.0);
        }
    }

    private double us(double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1000.0;
    }
}
