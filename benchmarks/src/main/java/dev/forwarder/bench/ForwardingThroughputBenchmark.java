package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forwarding throughput: records per second from hand-over to acknowledged by Kafka, against a bare
 * KafkaProducer with the same settings, on the same real broker (child process), in the same run.
 *
 * <p>Workload: {@value #RECORDS} distinct ~1 KB records of the three data types in turn, to three topics
 * of three partitions each; acks=all, idempotence, lz4, linger.ms=10; the bare producer with the forwarder's
 * own producer settings for batch_size = 1000 (batch.size 1,000 KiB, buffer.memory 64 such batches; before
 * 2026-11-30 it had Kafka's own 16 KiB and 32 MiB).
 * <ul>
 *   <li>{@code bareProducer}: KafkaProducer.send() of every record, then flush() (the reference).
 *   <li>{@code forwarder}: Forwarder.publish() of every record, then wait until the checkpoint covers the
 *       last one (spool, forwarder thread, producer, acknowledgements: the whole path).
 *   <li>Both keep their producer (forwarder) for the whole trial, as a service does: each run sends (publishes)
 *       into one that has already sent every earlier run's records, after ten warm-up runs (2,000,000 records).
 *       Until 2026-12-01 each run started a new one on fresh topics: the JIT was then still compiling what each
 *       start and close runs (C2 alone took 3.5 - 4.6 µs of CPU a record in the forwarder's measured runs, 1.3 -
 *       1.6 in the bare producer's), and the bare producer, started afresh too, ran at 2.4 - 3.0 µs a record
 *       against 1.4 - 1.8 µs kept running. Start-up is measured where it belongs: {@code drainBacklog},
 *       {@link LargeBacklogBenchmark}.
 *   <li>{@code drainBacklog}: the records already spooled (as after an outage); a forwarder is started on
 *       the spool and the time until everything is acknowledged is measured, start-up included.
 * </ul>
 * The forwarder runs with {@code delivery = at_least_once} and {@code exactly_once} (transactions of up to
 * batch_size = 1000 records or linger_ms = 10, each committed with the spool position).
 * Scores are nanoseconds per record (single-shot, {@value #RECORDS} records per invocation): records/s is
 * 1e9 / score, and the ratio to the bare producer is bareProducer / forwarder. After each invocation a
 * {@code machine-cpu} line ({@link MachineCpu}, also in {@code benchmarks/results/latest/throughput-cpu.txt}):
 * the CPU per record of this JVM and of the broker's process, and how many cores that kept busy; and a
 * {@code thread-cpu} line ({@link CpuAccount}): this JVM's CPU per record by thread (the caller's, its time in
 * the send or publish loop, every other thread's, the JIT and GC included).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ForwardingThroughput}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 10, batchSize = 1)
@Measurement(iterations = 5, batchSize = 1)
public class ForwardingThroughputBenchmark {

    static final int RECORDS = 200_000;

    private static final String CPU_FILE = "throughput-cpu.txt";

    /** The broker and the records, once per trial. */
    @State(Scope.Benchmark)
    public static class Broker {
        KafkaBroker kafka;
        byte[][] payloads = new byte[RECORDS][];
        byte[][] keys = new byte[RECORDS][];
        DataType[] types = new DataType[RECORDS];

        @Setup(Level.Trial)
        public void start() {
            kafka = BenchmarkBroker.start();
            UUID run = UUID.randomUUID();
            for (int i = 0; i < RECORDS; i++) {
                String id = Records.id(run, i);
                types[i] = Records.typeOf(i);
                payloads[i] = Records.json(types[i], id);
                keys[i] = id.getBytes(StandardCharsets.UTF_8);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            kafka.close();
        }

        String freshTopics() throws Exception {
            return BenchmarkBroker.freshTopics(kafka);
        }

        ForwarderConfig config(Path spool, String prefix, String delivery, int batchSize) {
            return TestConfig.forBroker(kafka, spool)
                    .prefix(prefix)
                    .with("gateway.observability.kafka { batch_size = " + batchSize + ", delivery = " + delivery + " }")
                    .build();
        }
    }

    /** A bare producer and fresh topics, kept for the whole trial. */
    @State(Scope.Thread)
    public static class BareRun {
        KafkaProducer<byte[], byte[]> producer;
        String[] topics = new String[3];

        @Setup(Level.Trial)
        public void setUp(Broker broker) throws Exception {
            String prefix = broker.freshTopics();
            for (DataType type : DataType.values()) {
                topics[type.ordinal()] = type.topic(prefix);
            }
            // The forwarder's own producer settings (batch.size and buffer.memory from batch_size = 1000 too)
            producer = new KafkaProducer<>(
                    BenchmarkBroker.forwarderProducerSettings(broker.kafka.bootstrapServers(), "lz4", 1000),
                    new ByteArraySerializer(),
                    new ByteArraySerializer());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            producer.close();
        }
    }

    /** A started forwarder on a fresh spool and fresh topics, kept for the whole trial. */
    @State(Scope.Thread)
    public static class ForwarderRun {
        /** {@code gateway.observability.kafka.delivery}. */
        @Param({"at_least_once", "exactly_once"})
        public String delivery;
        /** {@code batch_size}: with exactly_once, also the most records per transaction. */
        @Param({"1000", "5000"})
        public int batchSize;

        Forwarder forwarder;
        Path spool;

        @Setup(Level.Trial)
        public void setUp(Broker broker) throws Exception {
            spool = BenchmarkBroker.tempDir("forward");
            forwarder = Forwarder.start(broker.config(spool, broker.freshTopics(), delivery, batchSize));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            forwarder.close();
            BenchmarkBroker.delete(spool);
        }
    }

    /** A spool already holding every record (a backlog), and the configuration to drain it, per iteration. */
    @State(Scope.Thread)
    public static class BacklogRun {
        @Param({"at_least_once", "exactly_once"})
        public String delivery;

        Path spool;
        ForwarderConfig config;
        long lastIndex;

        @Setup(Level.Iteration)
        public void setUp(Broker broker) throws Exception {
            spool = BenchmarkBroker.tempDir("backlog");
            config = broker.config(spool, broker.freshTopics(), delivery, 1000);
            try (Spool s = BenchmarkBroker.openForAppends(spool)) {
                for (int i = 0; i < RECORDS; i++) {
                    lastIndex = s.append(
                            broker.types[i], System.currentTimeMillis(), broker.keys[i], broker.payloads[i], null);
                }
            }
        }

        @TearDown(Level.Iteration)
        public void tearDown() throws Exception {
            BenchmarkBroker.delete(spool);
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void bareProducer(Broker broker, BareRun run) throws IOException {
        MachineCpu cpu = new MachineCpu(broker.kafka.pid());
        CpuAccount threads = new CpuAccount();
        long start = System.nanoTime();
        for (int i = 0; i < RECORDS; i++) {
            run.producer.send(
                    new ProducerRecord<>(run.topics[broker.types[i].ordinal()], broker.keys[i], broker.payloads[i]));
        }
        long inCalls = System.nanoTime() - start;
        run.producer.flush();
        cpu.report(CPU_FILE, "bareProducer", RECORDS);
        reportThreads(threads, "bareProducer", inCalls);
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void forwarder(Broker broker, ForwarderRun run) throws IOException {
        MachineCpu cpu = new MachineCpu(broker.kafka.pid());
        CpuAccount threads = new CpuAccount();
        long start = System.nanoTime();
        long last = -1;
        for (int i = 0; i < RECORDS; i++) {
            PublishResult r = run.forwarder.publish(broker.types[i], broker.payloads[i]);
            last = r.spoolIndex();
        }
        long inCalls = System.nanoTime() - start;
        awaitCheckpoint(run.forwarder, last);
        String what = "forwarder " + run.delivery + " batch_size=" + run.batchSize;
        cpu.report(CPU_FILE, what, RECORDS);
        reportThreads(threads, what, inCalls);
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public void drainBacklog(Broker broker, BacklogRun run) throws IOException {
        MachineCpu cpu = new MachineCpu(broker.kafka.pid());
        CpuAccount threads = new CpuAccount();
        try (Forwarder forwarder = Forwarder.start(run.config)) {
            awaitCheckpoint(forwarder, run.lastIndex);
        }
        cpu.report(CPU_FILE, "drainBacklog " + run.delivery, RECORDS);
        reportThreads(threads, "drainBacklog " + run.delivery, 0);
    }

    /** The {@code thread-cpu} line: this JVM's CPU per record by thread, printed and in {@value #CPU_FILE}. */
    private static void reportThreads(CpuAccount threads, String what, long inCalls) throws IOException {
        BenchmarkBroker.report(CPU_FILE, "thread-cpu " + what + ": " + threads.report(RECORDS, inCalls));
    }

    /**
     * Waits for the checkpoint to cover {@code index}, looking every 5 ms: {@code status()} counts the backlog
     * with a Chronicle tailer of its own, and looked at every millisecond it took a fifth of the caller's CPU
     * samples (async-profiler), from the cores the forwarder needs.
     */
    static void awaitCheckpoint(Forwarder forwarder, long index) {
        while (forwarder.status().checkpoint() < index) {
            LockSupport.parkNanos(5_000_000);
        }
    }
}
