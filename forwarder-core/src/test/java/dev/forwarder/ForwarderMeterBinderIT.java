package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Micrometer application sees every forwarder metric, with its labels and values, on its Prometheus scrape. */
@KafkaTest
class ForwarderMeterBinderIT {

    @Test
    void micrometersPrometheusScrapeHasEveryFamilyWithTheForwardersValues(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        String prefix = config.kafka().topicPrefix();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config);
                ForwarderMeterBinder binder = new ForwarderMeterBinder(forwarder)) {
            binder.bindTo(registry);
            for (int i = 0; i < 25; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            forwarder.publish(DataType.JSON_INFERENCE, "not json");
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertEquals(
                            25,
                            forwarder.status().delivered(),
                            forwarder.status().toString()));
            Thread.sleep(1_100); // the spool gauges are cached for a second

            PrometheusText scrape = PrometheusText.parse(registry.scrape());
            for (String family : MetricsIT.FAMILIES) {
                assertTrue(
                        scrape.types().containsKey(family) || scrape.types().containsKey(family + "_total"),
                        "family " + family + " missing from Micrometer's scrape: "
                                + scrape.types().keySet());
            }
            Map<String, String> chat =
                    Map.of("topic", DataType.CHAT_INFERENCE.topic(prefix), "data_type", "chat_inference");
            assertEquals(25, (int) scrape.value("kafka_writes_success_total", chat));
            assertEquals(0, (int) scrape.value(
                    "kafka_writes_success_total",
                    Map.of("topic", DataType.MODEL_INFERENCE.topic(prefix), "data_type", "model_inference")));
            assertEquals(25, (int) scrape.value("forwarder_spool_records_appended_total"));
            assertEquals(1, (int)
                    scrape.value("forwarder_spool_records_dropped_total", Map.of("reason", "serialization_error")));
            assertEquals(0, (int) scrape.value("forwarder_spool_backlog_records"));
            assertEquals(config.kafka().spool().maxBytes(), (long) scrape.value("forwarder_spool_capacity_bytes"));
            assertEquals(1, (int) scrape.value("forwarder_state", Map.of("state", "forwarding")));
            assertEquals("histogram", scrape.types().get("kafka_write_duration_ms"));
            assertEquals(25, (int) scrape.value("kafka_write_duration_ms_count", chat));
            assertEquals(25, (int) scrape.value("kafka_write_duration_ms_bucket", with(chat, "le", "+Inf")));
            assertTrue(scrape.value("kafka_write_duration_ms_bucket", with(chat, "le", "120000.0")) == 25);
            assertTrue(scrape.value("kafka_write_duration_ms_sum", chat) > 0);
            assertEquals("histogram", scrape.types().get("forwarder_spool_append_latency_seconds"));
            // A Micrometer timer in seconds, with the exposition's bucket bounds (1 µs to 1 s).
            assertEquals(
                    List.of(1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.005, 0.02, 0.1, 1.0),
                    scrape.bucketBounds("forwarder_spool_append_latency_seconds"));
        }
    }

    private static Map<String, String> with(Map<String, String> labels, String key, String value) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.put(key, value);
        return all;
    }
}
