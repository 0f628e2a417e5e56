package dev.forwarder.internal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
            "langchain4j_errors", "counter provider",
            "langchain4j_recording_failures", "counter ");

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
