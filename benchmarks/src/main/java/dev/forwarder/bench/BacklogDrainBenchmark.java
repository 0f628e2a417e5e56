package dev.forwarder.bench;

import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.TestConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Recovery after an outage: a backlog of {@code backlog} ~1 KB records is already in the spool (appended
 * while Kafka was away); a forwarder starts on it and drains it into a real broker (child process).
 *
 * <p>Reported: the time to drain the whole backlog (records/s = backlog x 1e9 / score) and, as an auxiliary counter, the live heap
 * (MiB after a full GC) at the quarter points of the drain, the largest of the three. The heap must not
 * grow with the backlog: the spool is memory-mapped and off-heap, and the forwarder holds at most its
 * in-flight window (batch_size x 5 records) on the heap. Compare backlog=100000 with backlog=1000000.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar BacklogDrain}. Each iteration writes the
 * backlog (1 GB for a million records) to a temporary spool first; that part is not measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 0)
@Measurement(iterations = 2, batchSize = 1)
public class BacklogDrainBenchmark {

    @Param({"100000", "1000000"})
    public int backlog;

    private KafkaBroker kafka;
    private Path spool;
    private ForwarderConfig config;
    private long lastIndex;

    /** The live heap during the drain, reported beside the time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Heap {
        public long liveHeapMiB;
    }

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
        spool = BenchmarkBroker.tempDir("drain");
        String prefix = BenchmarkBroker.freshTopics(kafka);
        config = TestConfig.forBroker(kafka, spool).prefix(prefix).build();
        try (Spool s = BenchmarkBroker.openForAppends(spool)) {
            lastIndex = BenchmarkBroker.appendBacklog(s, backlog);
        }
        System.gc();
    }

    @TearDown(Level.Iteration)
    public void deleteSpool() throws Exception {
        BenchmarkBroker.delete(spool);
    }

    @Benchmark
    public void drain(Heap heap) {
        long peak = 0;
        try (Forwarder forwarder = Forwarder.start(config)) {
            long first = -1;
            int nextQuarter = 1;
            long cp;
            while ((cp = forwarder.status().checkpoint()) < lastIndex) {
                if (first < 0 && cp >= 0) {
                    first = cp;
                }
                // Indexes of one roll cycle are consecutive; measure the heap at 1/4, 1/2 and 3/4.
                if (first >= 0 && nextQuarter < 4 && cp - first >= (long) backlog * nextQuarter / 4) {
                    System.gc();
                    peak = Math.max(
                            peak,
                            ManagementFactory.getMemoryMXBean()
                                    .getHeapMemoryUsage()
                                    .getUsed());
                    nextQuarter++;
                }
                LockSupport.parkNanos(1_000_000);
            }
        }
        heap.liveHeapMiB = peak >> 20;
    }
}
