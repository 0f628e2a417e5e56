package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.publish.TraceCapture;
import dev.forwarder.testkit.Records;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.nio.file.Files;
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
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What taking the trace context costs publish, in the same run: {@code off} ({@code forwarder.tracing.propagate
 * = false}), {@code no_span} (on, the thread has no current span: the usual case outside a traced request) and
 * {@code span} (on, a current span with a trace state: its traceparent and tracestate go into the record). An
 * append-only forwarder, so that no forwarding thread shares the cores, with room for every record of the run,
 * its spool on tmpfs ({@code /dev/shm}) where there is one.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TracingPublish -prof gc}.
 */
@org.openjdk.jmh.annotations.State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 10, time = 1)
public class TracingPublishBenchmark {

    @Param({"off", "no_span", "span"})
    public String tracing;

    private Forwarder forwarder;
    private Path spool;
    private byte[] json;
    private Scope scope;
    private TraceCapture capture;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        // In memory (tmpfs) when there is one: the figures are of publish, not of the disk taking gigabytes.
        Path shm = Path.of("/dev/shm");
        spool = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "bench-tracing-")
                : BenchmarkBroker.tempDir("tracing");
        forwarder = Forwarder.startAppender(ForwarderConfig.parse("gateway.observability.kafka {\n"
                + "  spool.dir = \"" + spool + "\"\n"
                + "  spool.max_bytes = 16GiB\n"
                + "}\n"
                + "forwarder.tracing.propagate = " + !tracing.equals("off") + "\n"));
        json = Records.json(DataType.CHAT_INFERENCE, Records.id(UUID.randomUUID(), 1));
        capture = new TraceCapture(!tracing.equals("off"));
    }

    /** The span is current on the benchmark's thread for the whole iteration, as in a traced request. */
    @Setup(Level.Iteration)
    public void enterSpan() {
        if (tracing.equals("span")) {
            scope = Span.wrap(SpanContext.create(
                            "4bf92f3577b34da6a3ce929d0e0e4736",
                            "00f067aa0ba902b7",
                            TraceFlags.getSampled(),
                            TraceState.builder().put("vendor", "v1").build()))
                    .makeCurrent();
        }
    }

    @TearDown(Level.Iteration)
    public void leaveSpan() {
        if (scope != null) {
            scope.close();
            scope = null;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        BenchmarkBroker.closeAppender(forwarder, json, spool);
    }

    @Benchmark
    public PublishResult publish() {
        return forwarder.publish(DataType.CHAT_INFERENCE, json);
    }

    /** The capture alone, as publish does it (the publish figures carry the spool's page faults as noise). */
    @Benchmark
    public byte[] capture() {
        return capture.capture();
    }
}
