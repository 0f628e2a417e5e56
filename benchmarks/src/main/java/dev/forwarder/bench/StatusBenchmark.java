package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.PublishResult;
import dev.forwarder.testkit.Records;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * What {@code Forwarder.status()} costs its caller (a health check, a scrape of the backlog gauge, a test or a
 * benchmark waiting for the checkpoint): a forwarder with a backlog of {@code backlog} ~1 KB records it cannot
 * send (nothing listens at its broker address), asked for its status again and again.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar Status}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StatusBenchmark {

    @Param({"100000"})
    public int backlog;

    private PublishRig rig;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new PublishRig("down", "status", spool -> "");
        byte[] json = Records.json(DataType.CHAT_INFERENCE, Records.id(UUID.randomUUID(), 1));
        for (int i = 0; i < backlog; i++) {
            PublishResult result = rig.forwarder.publish(DataType.CHAT_INFERENCE, json);
            if (!result.accepted()) {
                throw new IllegalStateException("publish " + i + " not accepted: " + result);
            }
        }
        long counted = rig.forwarder.status().backlog();
        if (counted != backlog) {
            throw new IllegalStateException("status() counts a backlog of " + counted + ", not " + backlog);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Benchmark
    public ForwarderStatus status() {
        return rig.forwarder.status();
    }
}
