package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * The parts of publish, without Kafka: (a) the key scan of a 1 KB record, (b) the spool append alone
 * (Chronicle document, header, CRC-32C), to show where publish time goes, without and with
 * {@code spool.sync = every_record}.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar SpoolAppend}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SpoolAppendBenchmark {

    /** spool.sync: none, or every_record (an msync per append). */
    @Param({"none", "every_record"})
    public String sync;

    /**
     * {@code on}: the spool's pretoucher runs, as in a forwarder (it faults the pages ahead of the appends in on a
     * thread of its own); {@code off}: the appends fault their own pages in.
     */
    @Param({"off", "on"})
    public String pretouch;

    private Spool spool;
    private Path dir;
    private byte[] json;
    private byte[] key;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = BenchmarkBroker.tempDir("append");
        spool = new Spool(dir, Spool.Settings.defaults().syncEveryRecord(sync.equals("every_record")));
        if (pretouch.equals("on")) {
            spool.pretouch(() -> Long.MAX_VALUE); // a temporary directory with room: no guard
        }
        String id = Records.id(UUID.randomUUID(), 1);
        json = Records.json(DataType.CHAT_INFERENCE, id);
        key = id.getBytes(StandardCharsets.UTF_8);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        spool.close();
        BenchmarkBroker.delete(dir);
    }

    @Benchmark
    public String keyScan() {
        return MessageKeys.keyOf(json);
    }

    @Benchmark
    public long spoolAppend() {
        return spool.append(DataType.CHAT_INFERENCE, 0L, key, json, null);
    }
}
