package dev.forwarder.bench;

import dev.forwarder.internal.json.KeyScanner;
import dev.forwarder.internal.json.MessageKeys;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Workload: find the Kafka key of a 1 KB pre-serialised chat_inference, once with {@code id} as the first
 * field (the gateway's order) and once with only {@code episode_id}, near the end (the full top-level scan);
 * with Jackson ({@code key*}) and with the scan publish uses ({@code scan*}).
 *
 * <p>Run: {@code mvn -q -pl benchmarks -am package -DskipTests && java -jar benchmarks/target/benchmarks.jar
 * MessageKeyBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MessageKeyBenchmark {

    private final byte[] idFirst = record("\"id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\",", "");
    private final byte[] episodeLast = record("", ",\"episode_id\":\"0192f3a1-6a00-7000-8000-0123456789ab\"");

    private static byte[] record(String head, String tail) {
        StringBuilder json = new StringBuilder("{")
                .append(head)
                .append("\"function_name\":\"chat\",\"variant_name\":\"a\",\"input\":{\"messages\":[");
        while (json.length() < 950) {
            json.append("{\"role\":\"user\",\"content\":\"lorem ipsum dolor sit amet\"},");
        }
        json.setLength(json.length() - 1);
        json.append("]}").append(tail).append('}');
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Benchmark
    public String keyWithIdFirst() {
        return MessageKeys.keyOf(idFirst);
    }

    @Benchmark
    public String keyFromFullScan() {
        return MessageKeys.keyOf(episodeLast);
    }

    /** What publish uses: the allocation-free scan ({@code KeyScanner}); Jackson above, for comparison. */
    @Benchmark
    public long scanWithIdFirst() {
        return KeyScanner.find(idFirst);
    }

    @Benchmark
    public long scanFull() {
        return KeyScanner.find(episodeLast);
    }
}
