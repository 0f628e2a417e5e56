package dev.forwarder.internal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The catalogue of metric families and README "Metrics" list the same families, kinds and labels. */
class MetricNamesTest {

    /** Families components register through {@code Forwarder.counter}, documented with the forwarder's. */
    private static final Map<String, String> ADDED = Map.of(
            "forwarder_langchain4j_errors", "counter provider",
            "forwarder_langchain4j_recording_failures", "counter ");

    /**
     * The seed's names stay; every other family follows Prometheus's and Micrometer's conventions: one
     * {@code forwarder_} prefix, no {@code _total} in the stem (the exposition adds it), durations in seconds
     * and sizes in bytes, so no {@code _ms}/{@code _us} and no other unit.
     */
    @Test
    void everyFamilyNotTheSeedsHasTheForwarderPrefixAndABaseUnit() {
        Map<String, MetricNames.Kind> ours = new TreeMap<>();
        for (MetricNames.Family f : MetricNames.FAMILIES) {
            if (!MetricNames.SEED.contains(f.name())) {
                ours.put(f.name(), f.kind());
            }
        }
        ADDED.keySet().forEach(name -> ours.put(name, MetricNames.Kind.COUNTER));
        for (Map.Entry<String, MetricNames.Kind> family : ours.entrySet()) {
            String name = family.getKey();
            assertTrue(name.startsWith("forwarder_"), name + " has no forwarder_ prefix");
            assertFalse(name.endsWith("_total"), name + ": counters get _total in the exposition, not in the stem");
            assertFalse(
                    Pattern.compile("_(ms|us|micros|millis|milliseconds|microseconds|kb|mb|minutes|hours)(_|$)")
                            .matcher(name)
                            .find(),
                    name + " is not in a base unit");
            if (family.getValue() == MetricNames.Kind.HISTOGRAM) {
                assertTrue(name.endsWith("_seconds"), name + ": a histogram of durations in seconds");
            }
        }
        assertEquals(
                List.of(
                        "kafka_connections_established",
                        "kafka_connection_errors",
                        "kafka_writes_success",
                        "kafka_writes_failed",
                        "kafka_serialization_errors",
                        "kafka_write_duration_ms"),
                MetricNames.SEED,
                "the names of TensorZero's Kafka integration");
    }

    @Test
    void theReadmeTableListsEveryFamilyOfTheCatalogueWithItsKindAndLabels() throws Exception {
        Map<String, String> catalogue = new LinkedHashMap<>();
        for (MetricNames.Family f : MetricNames.FAMILIES) {
            catalogue.put(f.name(), f.kind().name().toLowerCase(Locale.ROOT) + " " + String.join(", ", f.labels()));
        }
        catalogue.putAll(ADDED);
        Path readme = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
        Map<String, String> documented = new LinkedHashMap<>();
        Matcher row = Pattern.compile(
                        "^\\| `([a-z0-9_]+)` \\| (counter|gauge|histogram) \\|([^|]*)\\|", Pattern.MULTILINE)
                .matcher(Files.readString(readme));
        while (row.find()) {
            documented.put(row.group(1), row.group(2) + " " + row.group(3).trim());
        }
        assertEquals(new TreeMap<>(catalogue), new TreeMap<>(documented));
    }
}
