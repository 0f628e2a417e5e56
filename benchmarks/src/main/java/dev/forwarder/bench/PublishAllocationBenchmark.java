package dev.forwarder.bench;

import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.testkit.Records;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one publish allocates on the caller's thread, read with {@code -prof gc} ({@code gc.alloc.rate.norm},
 * bytes per call): an append-only forwarder (no forwarding thread, so nothing else allocates meanwhile) with
 * room for every record of the run. {@code publishPreSerialised} should allocate only its result;
 * {@code publishTyped} adds the serialisation of a ~1 KB {@link ChatInference}.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PublishAllocation -prof gc}. Writes a few GB to a
 * temporary spool, deleted at the end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PublishAllocationBenchmark {

    private Forwarder forwarder;
    private Path spool;
    private byte[] json;
    private ChatInference record;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        spool = BenchmarkBroker.tempDir("allocation");
        forwarder = Forwarder.startAppender(ForwarderConfig.parse("gateway.observability.kafka {\n"
                + "  spool.dir = \"" + spool + "\"\n"
                + "  spool.max_bytes = 16GiB\n"
                + "}"));
        json = Records.json(DataType.CHAT_INFERENCE, Records.id(UUID.randomUUID(), 1));
        record = (ChatInference) new EventCodec().parse(DataType.CHAT_INFERENCE, json);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        BenchmarkBroker.closeAppender(forwarder, json, spool);
    }

    @Benchmark
    public PublishResult publishPreSerialised() {
        return forwarder.publish(DataType.CHAT_INFERENCE, json);
    }

    @Benchmark
    public PublishResult publishTyped() {
        return forwarder.publish(record);
    }
}
