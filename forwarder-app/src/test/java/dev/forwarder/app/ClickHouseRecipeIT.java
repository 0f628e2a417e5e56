package dev.forwarder.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.forwarder.DataType;
import dev.forwarder.internal.json.ClickHouseSchema;
import dev.forwarder.testkit.ClickHouse;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer recipe, {@code ops/clickhouse/forwarder.sql}, run as written (broker and prefix replaced) in a
 * real ClickHouse (26.7, chdb, with its Kafka engine) against the test broker, fed by the packaged forwarder
 * over HTTP. The forwarder is SIGKILLed mid-stream, so Kafka holds some records twice; afterwards each of
 * TensorZero's tables holds every accepted record exactly once, and a message without headers and one
 * ClickHouse cannot parse neither stall the consumer nor vanish.
 */
@KafkaTest
class ClickHouseRecipeIT {

    private static final String TOKEN = "recipe-it-token";
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aSigkilledForwardersTopicsLoadExactlyOnceAndBadMessagesAreKept(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "ch" + UUID.randomUUID().toString().substring(0, 8);
        int port = Ports.unused();
        // A checkpoint written every 2 s: a SIGKILL leaves acknowledged records behind it, sent again at restart.
        Path config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                // linger_ms = 0: a batch goes as soon as records come, so that some are in flight at the freeze below
                .with("gateway.observability.kafka.spool.checkpoint_interval_ms = 2000\n"
                        + "gateway.observability.kafka.linger_ms = 0\n" + "forwarder.http { port = "
                        + port + ", token = \"" + TOKEN + "\" }")
                .writeTo(dir.resolve("forwarder.conf"));
        Process app = ForwarderJar.run(config, dir.resolve("app-1.log"), List.of()); // it creates the topics
        try (ClickHouse clickHouse = ClickHouse.start(dir.resolve("clickhouse"))) {
            clickHouse.createTensorZeroTables();
            // The recipe as written; blocks flushed every 500 ms (not 7.5 s) so that the records sent again after
            // the kill arrive in other blocks than their first copies, as they do over a longer run.
            String recipe = Files.readString(Path.of("..", "ops", "clickhouse", "forwarder.sql"))
                    .replace("'kafka:9092'", "'" + broker.bootstrapServers() + "'")
                    .replace("tensorzero_", prefix + "_")
                    .replace(
                            "kafka_handle_error_mode = 'stream',",
                            "kafka_handle_error_mode = 'stream', kafka_flush_interval_ms = 500,");
            clickHouse.runScript(recipe);
            loadAndCheck(broker, dir, prefix, port, config, app, clickHouse);
        } finally {
            app.destroyForcibly(); // killed already, unless something failed before
        }
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid))
                .redirectErrorStream(true)
                .start();
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, kill.waitFor(), "kill -" + name + " " + pid + ": " + out);
    }

    private void loadAndCheck(
            KafkaBroker broker, Path dir, String prefix, int port, Path config, Process app, ClickHouse clickHouse)
            throws Exception {
        Map<DataType, Set<String>> accepted = new ConcurrentHashMap<>();
        Set<String> posted = ConcurrentHashMap.newKeySet();
        for (DataType type : DataType.values()) {
            accepted.put(type, ConcurrentHashMap.newKeySet());
        }
        UUID run = UUID.randomUUID();
        // SIGKILL the forwarder mid-stream and start it again, until Kafka holds some records twice (the records
        // in flight at the kill are sent again from the checkpoint; a kill between two batches catches none).
        int duplicates = 0;
        try {
            for (int round = 0; round < 8 && duplicates == 0; round++) {
                AtomicBoolean posting = new AtomicBoolean(true);
                long first = round * 1_000_000L;
                Thread poster = new Thread(() -> post(port, run, first, posting, posted, accepted));
                poster.start();
                Thread.sleep(3000);
                // Frozen first, then killed: the batches in flight at the freeze reach the broker, whose answers
                // the frozen forwarder never reads, so they are sent again after the restart. A SIGKILL alone
                // landed between two batches in about half the rounds: five rounds without a duplicate came in one
                // CI run (2026-11-30).
                signal("STOP", app.pid());
                Thread.sleep(1000);
                app.destroyForcibly(); // SIGKILL to the JVM itself (no wrapper in between)
                assertTrue(app.waitFor(30, TimeUnit.SECONDS));
                posting.set(false);
                poster.join(30_000);
                assertTrue(total(accepted) > 100 * (round + 1), "posted " + total(accepted));
                // Let ClickHouse load what reached Kafka before the kill (its row count stops growing), so that what
                // is sent again after the restart meets rows already loaded, in later blocks.
                long[] last = {-1};
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(1500))
                        .until(() -> {
                            long now = 0;
                            for (DataType type : DataType.values()) {
                                now += clickHouse.number("SELECT count() FROM " + ClickHouseSchema.TABLES.get(type));
                            }
                            boolean stable = now > 0 && now == last[0];
                            last[0] = now;
                            return stable;
                        });
                app = ForwarderJar.run(config, dir.resolve("app-" + (round + 2) + ".log"), List.of());
                Delivered delivered = Delivered.read(broker.clientProperties(), prefix, total(accepted));
                for (Set<String> ids : accepted.values()) {
                    assertEquals(Set.of(), delivered.missing(ids), "accepted records missing from Kafka");
                }
                duplicates = delivered.duplicates();
                System.out.println("round " + (round + 1) + ": Kafka holds " + delivered.messages() + " messages of "
                        + delivered.distinct() + " records: " + duplicates + " duplicates after the SIGKILL");
            }
            app.destroy();
            assertTrue(app.waitFor(90, TimeUnit.SECONDS));
        } finally {
            app.destroyForcibly(); // gone already, unless an assertion failed on the way
        }
        assertTrue(duplicates > 0, "no SIGKILL in 8 landed mid-work: Kafka holds no record twice");

        // Two messages the forwarder would never write: a record without headers, and text that is not JSON.
        String headerless = UUID.randomUUID().toString();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(broker.clientProperties(), new ByteArraySerializer(), new ByteArraySerializer())) {
            String chatTopic = DataType.CHAT_INFERENCE.topic(prefix);
            producer.send(new ProducerRecord<>(chatTopic, Records.json(DataType.CHAT_INFERENCE, headerless)));
            producer.send(new ProducerRecord<>(chatTopic, "this is not JSON".getBytes(StandardCharsets.UTF_8)));
            producer.flush();
        }
        accepted.get(DataType.CHAT_INFERENCE).add(headerless);
        posted.add(headerless);

        for (DataType type : DataType.values()) {
            String table = ClickHouseSchema.TABLES.get(type);
            Set<String> expected = accepted.get(type);
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> ids(clickHouse, table).containsAll(expected));
        }
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> clickHouse.number("SELECT count() FROM forwarder_dead_letters") >= 1);
        // What arrives later than the last expected id has had time to arrive too: read every table once more.
        Thread.sleep(8000);
        for (DataType type : DataType.values()) {
            String table = ClickHouseSchema.TABLES.get(type);
            List<String> loaded = idList(clickHouse, table);
            Set<String> distinct = new HashSet<>(loaded);
            assertEquals(distinct.size(), loaded.size(), table + " holds a record twice");
            assertTrue(distinct.containsAll(accepted.get(type)), table + " lacks accepted records");
            distinct.removeAll(posted);
            assertEquals(Set.of(), distinct, table + " holds records nobody posted");
            System.out.println(table + ": " + loaded.size() + " rows, "
                    + accepted.get(type).size() + " accepted records");
        }
        List<JsonNode> dead = clickHouse.rows("SELECT * FROM forwarder_dead_letters FINAL");
        assertEquals(1, dead.size(), dead.toString());
        assertEquals("this is not JSON", dead.get(0).get("raw_message").asText().strip());
        assertEquals(
                DataType.CHAT_INFERENCE.topic(prefix), dead.get(0).get("topic").asText());
        assertTrue(!dead.get(0).get("error").asText().isEmpty(), dead.toString());
        aLoadThatFailsIsRetriedWithoutLossOrDuplicate(broker, prefix, clickHouse);
    }

    /**
     * The load view fails (a constraint on TensorZero's table) on a block of new records, records already
     * loaded, and a message that cannot be parsed; the dead-letter view of the same block may have run. Once
     * the constraint is gone, the Kafka engine reads the block again: every new record is loaded once, none of the
     * old ones again, and the bad message is one dead letter.
     */
    private static void aLoadThatFailsIsRetriedWithoutLossOrDuplicate(
            KafkaBroker broker, String prefix, ClickHouse clickHouse) throws Exception {
        String table = ClickHouseSchema.TABLES.get(DataType.CHAT_INFERENCE);
        List<String> before = idList(clickHouse, table);
        UUID run = UUID.randomUUID();
        // A constraint the first new record breaks: every insert of a block that holds it fails, mid-block,
        // after the dead-letter view of that block may have written.
        clickHouse.query(
                "ALTER TABLE " + table + " ADD CONSTRAINT fail_once CHECK id != toUUID('" + Records.id(run, 0) + "')");
        // The queue's streaming keeps the target's metadata it started with: attach it again to see the constraint.
        clickHouse.query("DETACH TABLE forwarder_chat_inference_queue");
        clickHouse.query("ATTACH TABLE forwarder_chat_inference_queue");
        long violated = violations(clickHouse);
        List<String> fresh = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(broker.clientProperties(), new ByteArraySerializer(), new ByteArraySerializer())) {
            String topic = DataType.CHAT_INFERENCE.topic(prefix);
            for (int i = 0; i < 50; i++) {
                String id = Records.id(run, i);
                fresh.add(id);
                producer.send(new ProducerRecord<>(topic, Records.json(DataType.CHAT_INFERENCE, id)));
                // Old records sent again, as a crashed forwarder would.
                producer.send(new ProducerRecord<>(
                        topic, Records.json(DataType.CHAT_INFERENCE, before.get(i % before.size()))));
            }
            producer.send(new ProducerRecord<>(topic, "{not json either".getBytes(StandardCharsets.UTF_8)));
            producer.flush();
        }
        // The engine reads the block and the load fails on the constraint (ClickHouse counts the error).
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> violations(clickHouse) > violated);
        Thread.sleep(2000);
        System.out.println("the load failed " + (violations(clickHouse) - violated) + " times on the constraint");
        assertTrue(!ids(clickHouse, table).contains(Records.id(run, 0)));
        clickHouse.query("ALTER TABLE " + table + " DROP CONSTRAINT fail_once");
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> ids(clickHouse, table).containsAll(fresh));
        Thread.sleep(3000);
        List<String> after = idList(clickHouse, table);
        assertEquals(before.size() + fresh.size(), after.size(), "each new record once, no old one again");
        assertEquals(after.size(), new HashSet<>(after).size(), table + " holds a record twice");
        List<JsonNode> dead = clickHouse.rows(
                "SELECT raw_message FROM forwarder_dead_letters FINAL WHERE raw_message LIKE '{not json%'");
        assertEquals(1, dead.size(), "the bad message is one dead letter: " + dead);
    }

    /** How often ClickHouse refused an insert for a constraint (system.errors, VIOLATED_CONSTRAINT). */
    private static long violations(ClickHouse clickHouse) {
        List<JsonNode> rows = clickHouse.rows("SELECT value FROM system.errors WHERE name = 'VIOLATED_CONSTRAINT'");
        return rows.isEmpty() ? 0 : Long.parseLong(rows.get(0).get("value").asText());
    }

    private static int total(Map<DataType, Set<String>> accepted) {
        return accepted.values().stream().mapToInt(Set::size).sum();
    }

    private static Set<String> ids(ClickHouse clickHouse, String table) {
        return new HashSet<>(idList(clickHouse, table));
    }

    private static List<String> idList(ClickHouse clickHouse, String table) {
        List<String> ids = new ArrayList<>();
        for (JsonNode row : clickHouse.rows("SELECT toString(id) AS id FROM " + table)) {
            ids.add(row.get("id").asText());
        }
        return ids;
    }

    /** Posts NDJSON bodies of 10 records of each type in turn until told to stop; counts what got 202. */
    private void post(
            int port,
            UUID run,
            long first,
            AtomicBoolean posting,
            Set<String> posted,
            Map<DataType, Set<String>> accepted) {
        long seq = first;
        while (posting.get()) {
            for (DataType type : DataType.values()) {
                StringBuilder body = new StringBuilder();
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 10; i++, seq++) {
                    String id = Records.id(run, seq);
                    ids.add(id);
                    body.append(new String(Records.json(type, id), StandardCharsets.UTF_8))
                            .append('\n');
                }
                posted.addAll(ids);
                try {
                    HttpResponse<String> r = http.send(
                            HttpRequest.newBuilder(
                                            URI.create("http://127.0.0.1:" + port + "/v1/events/" + type.wireName()))
                                    .header("Content-Type", "application/x-ndjson")
                                    .header("Authorization", "Bearer " + TOKEN)
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 202) {
                        accepted.get(type).addAll(ids);
                    } else {
                        throw new AssertionError(type + ": " + r.statusCode() + " " + r.body());
                    }
                } catch (java.io.IOException e) {
                    return; // the server is gone: the test killed it
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
