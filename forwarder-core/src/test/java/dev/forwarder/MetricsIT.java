package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.metrics.MetricNames;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** After real sends and a real outage, each metric equals what happened, in Prometheus and over JMX. */
@KafkaTest
class MetricsIT {

    /** Every family of the catalogue (which MetricNamesTest holds against README "Metrics"). */
    static final List<String> FAMILIES =
            MetricNames.FAMILIES.stream().map(MetricNames.Family::name).toList();

    private static final Map<DataType, Integer> SENT =
            Map.of(DataType.MODEL_INFERENCE, 10, DataType.CHAT_INFERENCE, 20, DataType.JSON_INFERENCE, 30);

    @Test
    void countersEqualWhatHappenedAndEveryMetricIsExposedWithItsLabels(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        String prefix = config.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        PrometheusText metrics;
        try (Forwarder forwarder = Forwarder.start(config)) {
            int seq = 0;
            for (DataType type : DataType.values()) {
                for (int i = 0; i < SENT.get(type); i++) {
                    forwarder.publish(type, Records.json(type, Records.id(run, seq++)));
                }
            }
            // Two records that cannot be serialised: a typed one with an unwritable extra field, and bad JSON.
            ChatInference unwritable = new ChatInference(
                    UUID.randomUUID(),
                    "f",
                    "v",
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                    new LinkedHashMap<>(Map.of("handle", new Object())));
            assertEquals(
                    PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                    forwarder.publish(unwritable).status());
            assertEquals(
                    PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                    forwarder.publish(DataType.JSON_INFERENCE, "[]").status());
            awaitBacklog(forwarder, 0, 60);
            assertJmx("kafka_writes_success.json_inference", 30L);
            forwarder.close();
            metrics = scrape(forwarder);
        }
        for (DataType type : DataType.values()) {
            Map<String, String> labels = Map.of("topic", type.topic(prefix), "data_type", type.wireName());
            assertEquals(
                    SENT.get(type), (int) metrics.value("kafka_writes_success_total", labels), type + " successes");
            assertEquals(0, (int) metrics.value("kafka_writes_failed_total", labels), type + " failures");
            // A histogram: cumulative buckets ending in +Inf = count, and a sum of the durations.
            assertEquals(
                    SENT.get(type), (int) metrics.value("kafka_write_duration_ms_count", labels), type + " durations");
            assertEquals(
                    SENT.get(type), (int) metrics.value("kafka_write_duration_ms_bucket", with(labels, "le", "+Inf")));
            assertTrue(metrics.value("kafka_write_duration_ms_sum", labels) > 0, type + " duration sum");
            double below = 0;
            for (String le : List.of("1.0", "10.0", "100.0", "1000.0", "120000.0")) {
                double bucket = metrics.value("kafka_write_duration_ms_bucket", with(labels, "le", le));
                assertTrue(bucket >= below, "buckets are cumulative: le=" + le);
                below = bucket;
            }
        }
        assertEquals("histogram", metrics.types().get("kafka_write_duration_ms"));
        assertEquals("histogram", metrics.types().get("forwarder_spool_append_latency_seconds"));
        assertTrue(metrics.value("forwarder_spool_append_latency_seconds_bucket", Map.of("le", "+Inf"))
                == metrics.value("forwarder_spool_append_latency_seconds_count"));
        // In seconds: the bucket bounds are 1 µs to 1 s (they were 1 to 1,000,000 when the family was in µs).
        assertEquals(
                List.of(1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.005, 0.02, 0.1, 1.0),
                metrics.bucketBounds("forwarder_spool_append_latency_seconds"));
        assertEquals(config.kafka().spool().maxBytes(), (long) metrics.value("forwarder_spool_capacity_bytes"));
        // The one typed record (its random v4 id) is checked before it fails to serialise; raw JSON is not checked.
        assertEquals(1, (long) metrics.value("forwarder_event_ids_not_v7_total"));
        assertEquals(2, (int) metrics.value("kafka_serialization_errors_total"));
        assertEquals(2, (int)
                metrics.value("forwarder_spool_records_dropped_total", Map.of("reason", "serialization_error")));
        assertEquals(0, (int) metrics.value("forwarder_spool_records_dropped_total", Map.of("reason", "spool_full")));
        assertEquals(60, (int) metrics.value("forwarder_spool_records_appended_total"));
        assertEquals(0, (int) metrics.value("forwarder_spool_backlog_records"));
        assertEquals(0, (int) metrics.value("forwarder_spool_oldest_unforwarded_age_seconds"));
        assertEquals(0, (int) metrics.value("forwarder_spool_corrupt_records_total"));
        assertEquals(0, (int) metrics.value("forwarder_spool_dead_letters_total"));
        assertTrue(metrics.value("forwarder_spool_disk_bytes") > 0);
        assertTrue(metrics.value("forwarder_spool_checkpoint_index") > 0);
        assertTrue(metrics.value("kafka_connections_established_total") >= 1);
        assertEquals(0, (int) metrics.value("kafka_connection_errors_total"));
        assertEquals(0, (int) metrics.value("forwarder_errors_total"));
        assertEquals(1, (int) metrics.value("forwarder_state", Map.of("state", "closed")));
        assertEquals(0, (int) metrics.value("forwarder_state", Map.of("state", "forwarding")));
        assertTrue(metrics.value("forwarder_spool_append_latency_seconds_count") >= 0);
        for (String family : FAMILIES) {
            // Counters are declared with Prometheus's _total suffix in the 0.0.4 text format; the stem is ours.
            assertTrue(
                    metrics.types().containsKey(family) || metrics.types().containsKey(family + "_total"),
                    "family " + family + " missing: " + metrics.types().keySet());
        }
        assertEquals(60, Delivered.read(broker.clientProperties(), prefix, 60).distinct());
    }

    @Test
    void anOutageShowsAsFailuresAndConnectionErrorsThenAReconnection(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .with("gateway.observability.kafka.spool.drain_timeout_ms = 60000\n"
                        // Sends in flight expire (and count as failures) after 15 s instead of the 60 s default.
                        + "gateway.observability.kafka.producer { \"delivery.timeout.ms\" = 15000 }")
                .build();
        String prefix = config.kafka().topicPrefix();
        Map<String, String> chat =
                Map.of("topic", DataType.CHAT_INFERENCE.topic(prefix), "data_type", "chat_inference");
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 100; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            awaitBacklog(forwarder, 0, 60);
            PrometheusText before = scrape(forwarder);
            assertEquals(100, (int) before.value("kafka_writes_success_total", chat));
            double establishedBefore = before.value("kafka_connections_established_total");

            broker.kill();
            for (int i = 100; i < 200; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            // Kafka's producer retries quietly; after delivery.timeout.ms (15 s here) the sends in flight expire
            // and fail: that is what the failure counter shows.
            PrometheusText during = await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> scrape(forwarder),
                            scraped -> scraped.value("kafka_writes_failed_total", chat) > 0
                                    && scraped.value("kafka_connection_errors_total") > 0);
            assertTrue(during.value("kafka_writes_failed_total", chat) > 0, "failures during the outage");
            assertTrue(during.value("kafka_connection_errors_total") >= 1, "connection errors during the outage");
            assertEquals(100, (int) during.value("kafka_writes_success_total", chat));
            assertTrue(during.value("forwarder_spool_backlog_records") >= 100);
            assertTrue(during.value("forwarder_spool_oldest_unforwarded_age_seconds") > 0);

            broker.start();
            awaitBacklog(forwarder, 0, 90);
            Thread.sleep(1200); // the connection metrics are polled twice a second
            PrometheusText after = scrape(forwarder);
            assertEquals(200, (int) after.value("kafka_writes_success_total", chat), "each record acknowledged once");
            assertTrue(
                    after.value("kafka_connections_established_total") > establishedBefore,
                    "a connection established after the broker came back");
        }
    }

    /**
     * A connection the producer closes because it sat idle for {@code connections.max.idle.ms} (9 minutes by
     * default: every quiet night) is no error. Before, each one counted in kafka_connection_errors and fired
     * the alert on it.
     */
    @Test
    void anIdleConnectionClosedByTheProducerIsNoConnectionError(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .with("gateway.observability.kafka.producer { \"connections.max.idle.ms\" = 1000 }")
                .build();
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 10; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            awaitBacklog(forwarder, 0, 60);
            Thread.sleep(1200); // the connection metrics are polled twice a second
            double establishedBefore = scrape(forwarder).value("kafka_connections_established_total");
            Thread.sleep(5_000); // idle: the producer closes its connections after 1 s of it
            for (int i = 10; i < 20; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            awaitBacklog(forwarder, 0, 60);
            Thread.sleep(1200);
            PrometheusText after = scrape(forwarder);
            assertTrue(
                    after.value("kafka_connections_established_total") > establishedBefore,
                    "the idle connections were closed, and new ones made for the records after");
            assertEquals(0, (int) after.value("kafka_connection_errors_total"), "idle closes are no errors");
        }
    }

    private static void awaitBacklog(Forwarder forwarder, long backlog, int seconds) {
        await().atMost(Duration.ofSeconds(seconds))
                .untilAsserted(() -> assertEquals(
                        backlog,
                        forwarder.status().backlog(),
                        forwarder.status().toString()));
    }

    private static PrometheusText scrape(Forwarder forwarder) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        forwarder.writePrometheus(out);
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    private static Map<String, String> with(Map<String, String> labels, String key, String value) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.put(key, value);
        return all;
    }

    private static void assertJmx(String metric, long expected) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("dev.forwarder:name=" + metric + ",*"), null);
        assertEquals(
                1,
                names.size(),
                "one MBean for " + metric + ": " + server.queryNames(new ObjectName("dev.forwarder:*"), null));
        assertEquals(expected, server.getAttribute(names.iterator().next(), "Count"));
    }
}
