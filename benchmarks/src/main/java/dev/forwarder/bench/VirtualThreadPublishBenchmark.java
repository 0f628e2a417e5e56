package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.testkit.JvmResources;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
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
 * Publishing from virtual threads, one per publish, as a server on virtual threads does per request: rounds of
 * {@code perRound} publishes (10 rounds: 1,000,000 publishes), the threads started at {@code rate} per second
 * (a burst of 100,000 at once would only measure the queue in front of the spool), each round reporting the
 * calls' mean and percentiles (timed inside each virtual thread), the heap after a GC and the process's open
 * files, so that growth from round to round shows. Needs JDK 21 or newer (virtual threads); compiled for 17,
 * it finds them by reflection and fails clearly on an older JDK.
 *
 * <p>{@code target=publish}: {@code Forwarder.publish(DataType, byte[])} of a ~1 KB chat_inference (the
 * forwarder forwarding meanwhile when the broker is up); {@code target=send}: a bare {@code KafkaProducer.send()}
 * of the same bytes and key from the same kind of thread, the baseline of the same run. {@code broker=up}: a
 * real broker; {@code broker=down}: nothing listens and the forwarder spools ({@code spool.max_bytes} = 16 GiB
 * so the rounds fit); {@code send()} has no such case (it would block {@code max.block.ms} per call once its
 * buffer is full), so {@code target=send, broker=down} is refused.
 *
 * <p>Run with a JDK 21+: {@code /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar
 * VirtualThreadPublish} (both targets, broker up), or {@code -p target=publish -p broker=down}. Lines also go to
 * {@code benchmarks/results/latest/virtual-threads.txt}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 0)
@Measurement(iterations = 10)
public class VirtualThreadPublishBenchmark {

    @Param({"publish", "send"})
    public String target;

    @Param({"up"})
    public String broker;

    @Param({"100000"})
    public int perRound;

    /** Virtual threads started per second, each publishing once, as requests arriving at a server. */
    @Param({"50000"})
    public int rate;

    private PublishRig rig;
    private String topic;
    /** Distinct records, so that keys do not repeat within a window ({@link DistinctRecords}). */
    private final DistinctRecords records = new DistinctRecords();

    private final ConcurrentHistogram histogram = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(10), 3);
    private final AtomicLong accepted = new AtomicLong();
    private int round;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        if (target.equals("send") && broker.equals("down")) {
            throw new IllegalArgumentException("target=send needs broker=up: with no broker, send() blocks"
                    + " max.block.ms per call once its buffer is full");
        }
        rig = new PublishRig(broker, "virtual", spool -> "");
        topic = DataType.CHAT_INFERENCE.topic(rig.kafka != null ? BenchmarkBroker.freshTopics(rig.kafka) : "bare");
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Setup(Level.Iteration)
    public void resetHistogram() {
        histogram.reset();
        accepted.set(0);
    }

    /** One round: {@code perRound} virtual threads, each calling once; returns how many calls were accepted. */
    @Benchmark
    public long round() throws Exception {
        ExecutorService threads = newVirtualThreadPerTaskExecutor();
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long start = System.nanoTime();
        boolean publish = target.equals("publish");
        Forwarder forwarder = rig.forwarder;
        KafkaProducer<byte[], byte[]> producer = rig.producer;
        try {
            for (int i = 0; i < perRound; i++) {
                long wait;
                while ((wait = start + i * interval - System.nanoTime()) > 0) {
                    if (wait > 100_000) {
                        LockSupport.parkNanos(wait - 80_000);
                    }
                }
                byte[] json = records.json(i);
                byte[] key = records.key(i);
                threads.execute(() -> {
                    long t0 = System.nanoTime();
                    boolean ok;
                    if (publish) {
                        ok = forwarder.publish(DataType.CHAT_INFERENCE, json).accepted();
                    } else {
                        producer.send(new ProducerRecord<>(topic, key, json));
                        ok = true; // returned: handed to the producer, as an accepted publish is to the spool
                    }
                    histogram.recordValue(System.nanoTime() - t0);
                    if (ok) {
                        accepted.incrementAndGet();
                    }
                });
            }
        } finally {
            threads.shutdown();
            threads.awaitTermination(10, TimeUnit.MINUTES);
        }
        return accepted.get();
    }

    @TearDown(Level.Iteration)
    public void report() throws Exception {
        round++;
        long heap = JvmResources.usedHeapAfterGc();
        String line = String.format(
                "virtual-threads target=%s broker=%s round=%d calls=%d accepted=%d mean=%.2fus p50=%.2fus"
                        + " p99=%.2fus p99.9=%.2fus max=%.2fus heap_after_gc=%dMiB open_files=%d java=%s",
                target,
                broker,
                round,
                histogram.getTotalCount(),
                accepted.get(),
                histogram.getMean() / 1000.0,
                histogram.getValueAtPercentile(50) / 1000.0,
                histogram.getValueAtPercentile(99) / 1000.0,
                histogram.getValueAtPercentile(99.9) / 1000.0,
                histogram.getMaxValue() / 1000.0,
                heap >> 20,
                JvmResources.openFiles(),
                System.getProperty("java.version"));
        BenchmarkBroker.report("virtual-threads.txt", line);
    }

    private static ExecutorService newVirtualThreadPerTaskExecutor() {
        try {
            return (ExecutorService)
                    Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "virtual threads need JDK 21 or newer; this is " + System.getProperty("java.version"), e);
        }
    }
}
