package dev.forwarder.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a JMH JSON result file into the markdown summary that benchmarks/run.sh writes: latency
 * percentiles, records per second, ratios to the bare KafkaProducer, and the targets they are held to.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.forwarder.bench.Summary jmh.json}
 */
public final class Summary {

    private Summary() {}

    public static void main(String[] args) throws Exception {
        JsonNode results = new ObjectMapper().readTree(new File(args[0]));
        StringBuilder md = new StringBuilder();
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        String jvm = "";
        for (JsonNode r : results) {
            String name = r.get("benchmark").asText().replaceAll(".*\\.", "");
            String cls = r.get("benchmark").asText().replaceAll("^.*\\.(\\w+)\\.\\w+$", "$1");
            StringBuilder key = new StringBuilder(cls + "." + name);
            if (r.has("params")) {
                r.get("params")
                        .fields()
                        .forEachRemaining(p -> key.append(' ')
                                .append(p.getKey())
                                .append('=')
                                .append(p.getValue().asText()));
            }
            byName.put(key.toString(), r);
            jvm = r.get("vmName").asText() + " " + r.get("jdkVersion").asText();
        }
        md.append("Machine: ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ")
                .append(Math.round(physicalMemoryGiB()))
                .append(" GiB, ")
                .append(System.getProperty("os.name"))
                .append(' ')
                .append(System.getProperty("os.arch"))
                .append("; ")
                .append(jvm)
                .append(".\n\n");

        md.append("### Publish latency (sample time, µs)\n\n");
        md.append("| call | parameters | p50 | p99 | p99.9 | p99.99 |\n|---|---|---:|---:|---:|---:|\n");
        for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
            if (!e.getKey().startsWith("PublishLatencyBenchmark.")
                    && !e.getKey().startsWith("SpoolAppendBenchmark.")) {
                continue;
            }
            JsonNode p = e.getValue().get("primaryMetric").get("scorePercentiles");
            md.append("| ")
                    .append(call(e.getKey()))
                    .append(" | ")
                    .append(parameters(e.getKey()))
                    .append(" | ")
                    .append(us(p.get("50.0")))
                    .append(" | ")
                    .append(us(p.get("99.0")))
                    .append(" | ")
                    .append(us(p.get("99.9")))
                    .append(" | ")
                    .append(us(p.get("99.99")))
                    .append(" |\n");
        }
        for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
            if (!e.getKey().startsWith("PublishLatencyBenchmark.forwarderPublishPreSerialised ")
                    || !e.getKey().contains("broker=up")) {
                continue;
            }
            JsonNode bare = byName.get(e.getKey().replace("forwarderPublishPreSerialised", "kafkaProducerSend"));
            if (bare != null) {
                md.append(String.format(
                        Locale.ROOT,
                        "%nPublish, %s: p50 %s µs (issue 27's target: at most 0.30), p99 %.2fx"
                                + " KafkaProducer.send()'s in the same run (target: at most 0.2x).%n",
                        parameters(e.getKey()),
                        us(e.getValue()
                                .get("primaryMetric")
                                .get("scorePercentiles")
                                .get("50.0")),
                        p(e.getValue(), "99.0") / p(bare, "99.0")));
            }
        }

        md.append("\n### Forwarding throughput (records/s, acks=all, lz4, 1 KB records)\n\n");
        md.append("| path | parameters | records/s | vs bare producer |\n|---|---|---:|---:|\n");
        JsonNode bare = byName.get("ForwardingThroughputBenchmark.bareProducer");
        double bareRate = bare == null
                ? Double.NaN
                : 1e9 / bare.get("primaryMetric").get("score").asDouble();
        for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
            if (e.getKey().startsWith("ForwardingThroughputBenchmark.")) {
                double rate =
                        1e9 / e.getValue().get("primaryMetric").get("score").asDouble();
                md.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %,.0f | %.2fx |%n",
                        call(e.getKey()),
                        parameters(e.getKey()),
                        rate,
                        rate / bareRate));
            }
        }
        md.append("\n### Draining a backlog after an outage\n\n");
        md.append("| backlog | records/s | live heap (MiB, after full GC, peak of 3 samples) |\n|---:|---:|---:|\n");
        for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
            if (!e.getKey().startsWith("BacklogDrainBenchmark.drain ")) {
                continue;
            }
            long backlog = Long.parseLong(e.getKey().replaceAll(".*backlog=", ""));
            double seconds = e.getValue().get("primaryMetric").get("score").asDouble() / 1e9;
            JsonNode heap =
                    e.getValue().path("secondaryMetrics").path("liveHeapMiB").path("score");
            md.append(String.format(
                    Locale.ROOT,
                    "| %,d | %,.0f | %s |%n",
                    backlog,
                    backlog / seconds,
                    heap.isMissingNode() ? "n/a" : String.format(Locale.ROOT, "%.0f", heap.asDouble())));
        }
        System.out.print(md);
    }

    /** The benchmark method of a key ("PublishLatencyBenchmark.kafkaProducerSend broker=up ..."). */
    private static String call(String key) {
        return key.split(" ")[0].replaceAll("^\\w+\\.", "");
    }

    /** The parameters of a key, "broker=up encryption=off", or "none". */
    private static String parameters(String key) {
        int space = key.indexOf(' ');
        return space < 0 ? "none" : key.substring(space + 1);
    }

    private static double p(JsonNode result, String percentile) {
        return result.get("primaryMetric")
                .get("scorePercentiles")
                .get(percentile)
                .asDouble();
    }

    private static String us(JsonNode ns) {
        double v = ns.asDouble() / 1000.0;
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private static double physicalMemoryGiB() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize() / (double) (1L << 30);
        }
        return Double.NaN;
    }
}
