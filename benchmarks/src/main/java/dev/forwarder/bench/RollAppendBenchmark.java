package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.internal.spool.Spool;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * The append that opens a roll cycle, which publish pays on the caller's thread at every roll: before each
 * invocation, 2,000 ~1 KB records are appended in the current cycle and (with {@code cycle=new}) the spool's
 * clock moves on an hour; the invocation is the one append after that. {@code cycle=same}: the same append
 * without the move, in the same run. The bare Kafka client has no roll file, so there is no {@code send()}
 * counterpart; the same-cycle append is the baseline. No broker; the spool's own clock (no waiting an hour).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RollAppend}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 5)
@Measurement(iterations = 20)
public class RollAppendBenchmark {

    @Param({"new", "same"})
    public String cycle;

    /**
     * {@code true}: 30 s before the roll, {@code Spool.rollAhead} makes the next cycle's file and mark, as the
     * pretoucher's thread does (the product's default); {@code false}: the append makes them itself.
     */
    @Param({"true", "false"})
    public boolean ahead;

    private final AtomicLong clock = new AtomicLong(1_764_460_800_000L); // an hour's start
    private final byte[] payload = new byte[1000];
    private Path dir;
    private Spool spool;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = BenchmarkBroker.tempDir("roll-append");
        spool = new Spool(dir.resolve("spool"), Spool.Settings.defaults().wallClock(clock::get));
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        spool.close();
        BenchmarkBroker.delete(dir);
    }

    @Setup(Level.Invocation)
    public void fillTheCycle() {
        for (int i = 0; i < 2000; i++) {
            spool.append(DataType.CHAT_INFERENCE, clock.get(), null, payload, null);
        }
        if (cycle.equals("new")) {
            long next = clock.get() + TimeUnit.HOURS.toMillis(1);
            clock.set(next - TimeUnit.SECONDS.toMillis(30));
            if (ahead) {
                spool.rollAhead(Long.MAX_VALUE);
            }
            clock.set(next);
        }
    }

    @Benchmark
    public long append() {
        return spool.append(DataType.CHAT_INFERENCE, clock.get(), null, payload, null);
    }
}
