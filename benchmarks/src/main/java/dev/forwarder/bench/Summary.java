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
        md.append("| call | broker | p50 | p99 | p99.9 | p99.99 |\n|---|---|---:|---:|---:|---:|\n");
        for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
            if (!e.getKey().startsWith("PublishLatencyBenchmark.")
                    && !e.getKey().startsWith("SpoolAppendBenchmark.")) {
                continue;
            }
            JsonNode p = e.getValue().get("primaryMetric").get("scorePercentiles");
            String[] parts = e.getKey().split(" ");
            String broker = parts.length > 1 ? parts[1].replace("broker=", "").replace("sync=", "sync ") : "none";
            md.append("| ")
                    .append(parts[0].replaceAll("^\\w+\\.", ""))
                    .append(" | ")
                    .append(broker)
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
        for (String broker : new String[] {"up", "down"}) {
            JsonNode fwd = byName.get("PublishLatencyBenchmark.forwarderPublishPreSerialised broker=" + broker);
            JsonNode bare = byName.get("PublishLatencyBenchmark.kafkaProducerSend broker=" + broker);
            if (fwd != null && bare != null) {
                double ratio = p(bare, "99.0") / p(fwd, "99.0");
                md.append(String.format(
                        Locale.ROOT,
                        "%nBroker %s: KafkaProducer.send() p99 / forwarder publish p99 ="
                                + " **%.1fx** (target: at least 5x); forwarder publish p99 = %s µs (target: under 2 µs).%n",
                        broker,
                        ratio,
                        us(fwd.get("primaryMetric").get("scorePercentiles").get("99.0"))));
            }
        }

        md.append("\n### Forwarding throughput (records/s, acks=all, lz4, 1 KB records)\n\n");
        md.append("| path | records/s | vs bare producer |\n|---|---:|---:|\n");
        JsonNode bare = byName.get("ForwardingThroughputBenchmark.bareProducer");
        double bareRate = bare == null
                ? Double.NaN
                : 1e9 / bare.get("primaryMetric").get("score").asDouble();
        for (String name : new String[] {"bareProducer", "forwarder", "drainBacklog"}) {
            JsonNode r = byName.get("ForwardingThroughputBenchmark." + name);
            if (r != null) {
                double rate = 1e9 / r.get("primaryMetric").get("score").asDouble();
                md.append(String.format(Locale.ROOT, "| %s | %,.0f | %.2fx |%n", name, rate, rate / bareRate));
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
