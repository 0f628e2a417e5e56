package dev.forwarder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.DataType;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.Golden;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, started as a user starts it ({@code java -jar forwarder.jar ...}), against a real broker;
 * events POSTed with a real HTTP client and read back from Kafka with a real consumer.
 */
@KafkaTest
class AppIT {

    private static final String TOKEN = "app-it-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A running `forwarder run` and where it listens. */
    private record App(Process process, int port, Path log) {}

    private static Path config(Path dir, KafkaBroker broker, String prefix, int port) throws IOException {
        return TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .with("forwarder.http { port = " + port + ", token = \"" + TOKEN + "\", max_body_bytes = 8KiB }")
                .writeTo(dir.resolve("forwarder.conf"));
    }

    /** A configuration whose Kafka is away (nothing listens there), with more spool and HTTP settings. */
    private static Path kafkaAwayConfig(Path dir, int port, String spool, String http) throws IOException {
        return Files.writeString(
                dir.resolve("forwarder.conf"),
                "gateway.observability.kafka {\n"
                        + "  brokers = \"127.0.0.1:" + freePort() + "\"\n"
                        + "  startup.require_connection = false\n"
                        + "  spool { dir = \"" + dir.resolve("spool") + "\", drain_timeout_ms = 500"
                        + (spool.isEmpty() ? "" : ", " + spool) + " }\n"
                        + "}\n"
                        + "forwarder.http { port = " + port + ", token = \"" + TOKEN + "\", " + http + " }\n");
    }

    private static App start(Path config, int port, Path log, String... extra) throws Exception {
        return start(config, port, log, List.of(), extra);
    }

    private static App start(Path config, int port, Path log, List<String> jvm, String... extra) throws Exception {
        return new App(ForwarderJar.run(config, log, jvm, extra), port, log);
    }

    private static int stop(App app) throws Exception {
        app.process().destroy(); // SIGTERM
        assertTrue(app.process().waitFor(90, TimeUnit.SECONDS), "the app did not stop after SIGTERM");
        return app.process().exitValue();
    }

    private HttpResponse<String> post(App app, String type, String contentType, String body, String token)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + app.port() + "/v1/events/" + type))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(App app, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                .GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyEndpointAndEveryErrorStatus(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "app" + UUID.randomUUID().toString().substring(0, 8);
        int port = freePort();
        App app = start(config(dir, broker, prefix, port), port, dir.resolve("app.log"));
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try {
            String one = new String(Golden.json(DataType.CHAT_INFERENCE), StandardCharsets.UTF_8);
            HttpResponse<String> r = post(app, "chat_inference", "application/json", one, TOKEN);
            assertEquals(202, r.statusCode(), r.body());
            assertEquals(1, JSON.readTree(r.body()).get("accepted").asInt());
            ids.add(JSON.readTree(one).get("id").asText());

            StringBuilder ndjson = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                String id = Records.id(run, i);
                ids.add(id);
                ndjson.append("{\"id\":\"")
                        .append(id)
                        .append("\",\"inference_id\":\"")
                        .append(id)
                        .append("\",\"model_name\":\"m\",\"input_tokens\":3}\n\n");
            }
            r = post(app, "model_inference", "application/x-ndjson", ndjson.toString(), TOKEN);
            assertEquals(202, r.statusCode(), r.body());
            assertEquals(3, JSON.readTree(r.body()).get("accepted").asInt());

            String bad = "{\"id\":\"" + Records.id(run, 100) + "\",\"inference_id\":\"" + Records.id(run, 100)
                    + "\"}\n\n{\"id\":\"" + Records.id(run, 101) + "\",\"inference_id\":\"" + Records.id(run, 101)
                    + "\",\"input_tokens\":\"many\"}\n";
            r = post(app, "model_inference", "application/x-ndjson", bad, TOKEN);
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(
                    "line 3: model_inference field \"input_tokens\": expected an integer from 0 to 4,294,967,295"
                            + " (ClickHouse UInt32), got a string",
                    JSON.readTree(r.body()).get("error").asText());

            r = post(app, "feedback", "application/json", "{}", TOKEN);
            assertEquals(404, r.statusCode());
            assertTrue(JSON.readTree(r.body()).get("error").asText().contains("unknown data type \"feedback\""));

            r = post(app, "json_inference", "application/json", "{\"pad\":\"" + "x".repeat(9000) + "\"}", TOKEN);
            assertEquals(413, r.statusCode(), r.body());
            assertTrue(JSON.readTree(r.body()).get("error").asText().contains("forwarder.http.max_body_bytes"));

            assertEquals(
                    401,
                    post(app, "chat_inference", "application/json", one, null).statusCode());
            assertEquals(
                    401,
                    post(app, "chat_inference", "application/json", one, "wrong")
                            .statusCode());
            assertEquals(401, get(app, "/status", null).statusCode());

            assertEquals(200, get(app, "/health/live", null).statusCode());
            assertEquals(200, get(app, "/health/ready", null).statusCode());
            HttpResponse<String> metrics = get(app, "/metrics", TOKEN);
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            PrometheusText parsed = PrometheusText.parse(metrics.body());
            assertEquals(
                    4,
                    (int) parsed.value("forwarder_spool_records_appended_total"),
                    "the rejected body appended nothing");

            JsonNode status = JSON.readTree(get(app, "/status", TOKEN).body());
            assertEquals(4, status.get("appended").asInt());
            assertEquals(0, status.get("dropped").get("DROPPED_SPOOL_FULL").asInt());
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, 4);
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(4, delivered.messages());

        Process status = ForwarderJar.command(
                        "status", "--spool", dir.resolve("spool").toString(), "--json")
                .start();
        JsonNode s = JSON.readTree(status.getInputStream().readAllBytes());
        assertEquals(0, status.waitFor());
        assertEquals(0, s.get("backlog_records").asInt());
        assertTrue(s.get("forwarder").asText().startsWith("not running"));

        Process dump = ForwarderJar.command(
                        "dump", "--spool", dir.resolve("spool").toString(), "--type", "model_inference")
                .start();
        List<String> lines = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines()
                .toList();
        assertEquals(0, dump.waitFor());
        assertEquals(3, lines.size(), String.join("\n", lines));
        for (String line : lines) {
            JsonNode record = JSON.readTree(line);
            assertEquals("model_inference", record.get("data_type").asText());
            assertEquals(
                    record.get("key").asText(), record.get("record").get("id").asText());
        }
    }

    @Test
    void aBodySentAgainUnderItsIdempotencyKeyIsAnsweredAgainNotAppendedAgain(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "idem" + UUID.randomUUID().toString().substring(0, 8);
        int port = freePort();
        App app = start(config(dir, broker, prefix, port), port, dir.resolve("app.log"));
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        StringBuilder ndjson = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            ids.add(Records.id(run, i));
            ndjson.append(model(Records.id(run, i), "\"input_tokens\":3")).append('\n');
        }
        String body = ndjson.toString();
        try {
            HttpResponse<String> first = postWithKey(app, body, "order-7f3a");
            assertEquals(202, first.statusCode(), first.body());
            assertEquals(20, JSON.readTree(first.body()).get("accepted").asInt());
            assertTrue(first.headers().firstValue("Idempotent-Replayed").isEmpty());

            // The client did not see the answer (a time-out) and sends the body again: the same answer, no append.
            HttpResponse<String> again = postWithKey(app, body, "order-7f3a");
            assertEquals(202, again.statusCode(), again.body());
            assertEquals(first.body(), again.body());
            assertEquals(
                    "true", again.headers().firstValue("Idempotent-Replayed").orElse(null));

            HttpResponse<String> other =
                    postWithKey(app, body.replace("\"input_tokens\":3", "\"input_tokens\":4"), "order-7f3a");
            assertEquals(422, other.statusCode(), other.body());
            assertTrue(JSON.readTree(other.body()).get("error").asText().contains("another body"), other.body());

            HttpResponse<String> badKey = postWithKey(app, body, "has space");
            assertEquals(400, badKey.statusCode(), badKey.body());
            assertTrue(JSON.readTree(badKey.body()).get("error").asText().contains("Idempotency-Key"));

            JsonNode status = JSON.readTree(get(app, "/status", TOKEN).body());
            assertEquals(20, status.get("appended").asInt(), "the body was appended once");
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, 20);
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(20, delivered.messages(), "each line reached Kafka once");
    }

    private HttpResponse<String> postWithKey(App app, String ndjson, String key) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + "/v1/events/model_inference"))
                        .header("Content-Type", "application/x-ndjson")
                        .header("Authorization", "Bearer " + TOKEN)
                        .header("Idempotency-Key", key)
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRecordLargerThanItsTopicTakesGets413NamingTheLimitAndNothingOfItsBodyIsAppended(
            KafkaBroker broker, @TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .with("forwarder.http { port = " + port + ", token = \"" + TOKEN + "\" }") // 10 MiB bodies
                .writeTo(dir.resolve("forwarder.conf"));
        App app = start(config, port, dir.resolve("app.log"));
        try {
            UUID run = UUID.randomUUID();
            String image = "x".repeat(4 << 20); // a 4 MB base64 image in the provider's request
            String big = model(Records.id(run, 1), "\"raw_request\":\"" + image + "\"");
            HttpResponse<String> r = post(app, "model_inference", "application/json", big, TOKEN);
            assertEquals(413, r.statusCode(), r.body());
            String error = JSON.readTree(r.body()).get("error").asText();
            assertTrue(error.contains("max.message.bytes is 1048588") && error.contains("1048076"), error);
            assertTrue(r.headers().firstValue("Retry-After").isEmpty(), "retrying cannot help");

            String ndjson = model(Records.id(run, 2), "\"model_name\":\"m\"") + "\n" + big + "\n";
            r = post(app, "model_inference", "application/x-ndjson", ndjson, TOKEN);
            assertEquals(413, r.statusCode(), r.body());
            assertTrue(JSON.readTree(r.body()).get("error").asText().contains("record 2 of 2"), r.body());
            assertEquals(0, JSON.readTree(r.body()).get("accepted").asInt(), r.body());
            JsonNode status = JSON.readTree(get(app, "/status", TOKEN).body());
            assertEquals(0, status.get("appended").asInt(), "all or nothing: the small line was not appended");
            assertEquals(3, status.get("dropped").get("DROPPED_TOO_LARGE").asInt(), status.toString());
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
    }

    @Test
    void sigtermMidStreamThenARestartLosesNothing(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "app" + UUID.randomUUID().toString().substring(0, 8);
        int port = freePort();
        Path config = config(dir, broker, prefix, port);
        UUID run = UUID.randomUUID();
        List<String> accepted = new CopyOnWriteArrayList<>();
        for (int round = 0; round < 2; round++) {
            App app = start(config, port, dir.resolve("app" + round + ".log"));
            AtomicBoolean posting = new AtomicBoolean(true);
            int base = round * 100_000;
            Thread poster = new Thread(() -> {
                int seq = base;
                while (posting.get()) {
                    StringBuilder batch = new StringBuilder();
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < 20; i++, seq++) {
                        String id = Records.id(run, seq);
                        ids.add(id);
                        batch.append("{\"id\":\"")
                                .append(id)
                                .append("\",\"episode_id\":\"")
                                .append(id)
                                .append("\",\"function_name\":\"f\"}\n");
                    }
                    try {
                        HttpResponse<String> r =
                                post(app, "chat_inference", "application/x-ndjson", batch.toString(), TOKEN);
                        if (r.statusCode() == 202) {
                            accepted.addAll(ids);
                        }
                    } catch (Exception stopped) {
                        return; // the server is gone: the test stopped it
                    }
                }
            });
            poster.start();
            Thread.sleep(2000);
            int exit = stop(app); // SIGTERM while records are being posted
            posting.set(false);
            poster.join(30_000);
            assertEquals(0, exit, Files.readString(app.log()));
        }
        assertTrue(accepted.size() > 100, "posted " + accepted.size());
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, accepted.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(accepted)), "accepted records lost across SIGTERM");
        System.out.println("accepted " + accepted.size() + " records over two runs stopped by SIGTERM; "
                + delivered.duplicates() + " duplicates");
    }

    @Test
    void theDemoRunsEndToEndAndItsAccountAddsUp(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("demo.log");
        Process demo = ForwarderJar.command("demo", "--short")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        assertTrue(demo.waitFor(240, TimeUnit.SECONDS), "demo did not finish");
        String out = Files.readString(log);
        assertEquals(0, demo.exitValue(), out);
        assertTrue(out.contains("Broker DOWN") && out.contains("Broker UP again"), out);
        assertTrue(out.contains("offered      3,000"), out);
        assertTrue(out.contains("accepted     3,000"), out);
        assertTrue(out.contains("dropped      0"), out);
        assertTrue(out.contains("delivered    3,000 distinct records"), out);
        assertTrue(out.contains("lost         0"), out);
        assertTrue(out.contains("Every accepted record arrived."), out);
    }

    /** A model inference with both its ids ({@code id}) and the given fields. */
    private static String model(String id, String fields) {
        return "{\"id\":\"" + id + "\",\"inference_id\":\"" + id + "\"," + fields + "}";
    }

    private static int freePort() {
        return Ports.unused();
    }

    private static Process command(Path dir, String... args) throws IOException {
        return ForwarderJar.command(args)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("command.log").toFile()))
                .start();
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    @Test
    void replaySendsRetainedRecordsAgainWithTheirHeadersAndLeavesTheCheckpoint(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "rp" + UUID.randomUUID().toString().substring(0, 8);
        int port = freePort();
        Path config = config(dir, broker, prefix, port);
        Files.writeString(
                config, Files.readString(config) + "gateway.observability.kafka.spool.retain_forwarded = 1h\n");
        App app = start(config, port, dir.resolve("app.log"));
        UUID run = UUID.randomUUID();
        try {
            StringBuilder ndjson = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                ndjson.append(model(Records.id(run, i), "\"model_name\":\"m\"")).append('\n');
            }
            assertEquals(
                    202,
                    post(app, "model_inference", "application/x-ndjson", ndjson.toString(), TOKEN)
                            .statusCode());
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
        String topic = prefix + "_model_inference";
        assertEquals(
                20, TopicReader.readAll(broker.clientProperties(), topic, 20).size());
        long checkpoint = Checkpoint.readFile(dir.resolve("spool/checkpoint"));

        Process replay =
                command(dir, "replay", "--config", config.toString(), "--since", "1h", "--type", "model_inference");
        assertEquals(0, replay.waitFor(), Files.readString(dir.resolve("command.log")));
        assertEquals(
                checkpoint,
                Checkpoint.readFile(dir.resolve("spool/checkpoint")),
                "replay does not touch the checkpoint");

        List<ConsumerRecord<byte[], byte[]>> all = TopicReader.readAll(broker.clientProperties(), topic, 40);
        assertEquals(40, all.size(), "every retained record sent once more");
        Map<String, List<String>> copies = new HashMap<>();
        for (var r : all) {
            copies.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(header(r, "source_id") + "/" + header(r, "spool_index") + "/" + header(r, "data_type"));
        }
        assertEquals(20, copies.size());
        for (var c : copies.entrySet()) {
            assertEquals(2, c.getValue().size(), c.getKey());
            assertEquals(
                    c.getValue().get(0), c.getValue().get(1), "the copy carries the original's headers: " + c.getKey());
        }

        // redrive from the command line: no dead letters here, so nothing is sent and it says so.
        Process redrive = command(dir, "redrive", "--config", config.toString(), "--type", "model_inference");
        assertEquals(0, redrive.waitFor(), Files.readString(dir.resolve("command.log")));
        assertTrue(
                Files.readString(dir.resolve("command.log")).contains("redrive: 0 dead letters sent again"),
                Files.readString(dir.resolve("command.log")));
        Process bad = command(dir, "redrive", "--config", config.toString(), "--type", "feedback");
        assertEquals(2, bad.waitFor());
        assertTrue(Files.readString(dir.resolve("command.log")).contains("unknown data type \"feedback\""));
    }

    /**
     * An NDJSON body of many short lines must not take many times its size in heap: a process with a 96 MiB
     * heap answers 8 MiB of 2.8 million "{}" lines (each one passes the current check) with 413 naming the
     * line limit, and goes on taking records. Before, every line was copied into an object of its own, with a
     * result each (about 25 times the body): the process ran out of memory (500).
     */
    @Test
    void aBodyOfMillionsOfShortLinesIsRefusedBeforeItTakesManyTimesItsSizeInHeap(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path file = kafkaAwayConfig(dir, port, "", "max_body_bytes = 8MiB, max_concurrent = 1");
        App app = start(file, port, dir.resolve("app.log"), List.of("-Xmx96m"));
        try {
            String lines = "{}\n".repeat((8 << 20) / 3);
            HttpResponse<String> r = post(app, "chat_inference", "application/x-ndjson", lines, TOKEN);
            if (r.statusCode() != 413) {
                String log = Files.readString(dir.resolve("app.log"));
                fail(r.statusCode() + " " + r.body() + "\n" + log.substring(Math.max(0, log.length() - 4000)));
            }
            assertTrue(
                    JSON.readTree(r.body())
                            .get("error")
                            .asText()
                            .startsWith("body of 2796202 lines is over the limit of 131072 lines"),
                    r.body());
            String one = new String(Golden.json(DataType.CHAT_INFERENCE), StandardCharsets.UTF_8);
            HttpResponse<String> after = post(app, "chat_inference", "application/json", one, TOKEN);
            assertEquals(202, after.statusCode(), after.body());
        } finally {
            stop(app);
        }
        assertTrue(!Files.readString(dir.resolve("app.log")).contains("OutOfMemoryError"), "ran out of heap");
    }

    @Test
    void aFullSpoolAnswers503WithRetryAfterAndSaysHowManyWereAccepted(@TempDir Path dir) throws Exception {
        int port = freePort();
        // Kafka away, so everything stays in a spool of the smallest size allowed.
        Path file = kafkaAwayConfig(dir, port, "max_bytes = 16MiB", "max_body_bytes = 4MiB");
        App app = start(file, port, dir.resolve("app.log"));
        UUID run = UUID.randomUUID();
        String pad = "x".repeat(100_000);
        long acceptedTotal = 0;
        HttpResponse<String> full = null;
        try {
            for (int post = 0; post < 40 && full == null; post++) {
                StringBuilder ndjson = new StringBuilder();
                for (int i = 0; i < 30; i++) {
                    ndjson.append("{\"id\":\"")
                            .append(Records.id(run, post * 30L + i))
                            .append("\",\"inference_id\":\"")
                            .append(Records.id(run, post * 30L + i))
                            .append("\",\"raw_request\":\"")
                            .append(pad)
                            .append("\"}\n");
                }
                HttpResponse<String> r = post(app, "model_inference", "application/x-ndjson", ndjson.toString(), TOKEN);
                if (r.statusCode() == 503) {
                    full = r;
                    // All or nothing: a refused body left none of its lines behind (a retry would add them again).
                    assertEquals(0, JSON.readTree(r.body()).get("accepted").asLong(), r.body());
                } else {
                    assertEquals(202, r.statusCode(), r.body());
                    assertEquals(30, JSON.readTree(r.body()).get("accepted").asLong(), r.body());
                }
                acceptedTotal += JSON.readTree(r.body()).get("accepted").asLong();
            }
            assertTrue(full != null, "a 16 MiB spool refused records after at most 120 MB were offered");
            assertEquals("5", full.headers().firstValue("Retry-After").orElse(null));
            assertTrue(JSON.readTree(full.body()).get("error").asText().contains("DROPPED_SPOOL_FULL"), full.body());
            // A body is refused whole, so room for smaller ones may be left: readiness asks about one record of
            // the usual size. Fill that room a record at a time; the guard re-measures the files every 100 ms, and
            // a fresh measurement can give back up to a block (Chronicle lengthens a file a block ahead of the
            // data, counted once as length and once as appended bytes until then). Then the spool stays full.
            int ready = get(app, "/health/ready", null).statusCode();
            for (int round = 0; round < 400 && ready != 503; round++) {
                String one = model(Records.id(run, 10_000L + round), "\"raw_request\":\"" + pad + "\"");
                HttpResponse<String> r = post(app, "model_inference", "application/json", one, TOKEN);
                long accepted = JSON.readTree(r.body()).get("accepted").asLong();
                assertEquals(r.statusCode() == 202 ? 1 : 0, accepted, r.body());
                acceptedTotal += accepted;
                if (r.statusCode() == 503) {
                    Thread.sleep(300);
                }
                ready = get(app, "/health/ready", null).statusCode();
            }
            assertEquals(503, ready, "not ready while the spool is full");
            JsonNode status = JSON.readTree(get(app, "/status", TOKEN).body());
            assertEquals(
                    acceptedTotal,
                    status.get("appended").asLong(),
                    "what the answers said was accepted is in the spool");
            assertTrue(status.get("dropped").get("DROPPED_SPOOL_FULL").asLong() >= 1);
            assertEquals(
                    status.get("offered").asLong(),
                    status.get("appended").asLong()
                            + status.get("dropped").get("DROPPED_SPOOL_FULL").asLong());
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
    }

    @Test
    void ingestOpenToTheNetworkWithoutATokenRefusesToStart(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("forwarder.conf");
        Files.writeString(
                file,
                "gateway.observability.kafka { brokers = \"127.0.0.1:" + freePort() + "\","
                        + " startup.require_connection = false, spool.dir = \"" + dir.resolve("spool") + "\" }\n"
                        + "forwarder.http { host = \"0.0.0.0\", port = " + freePort() + " }\n");
        Process run = command(dir, "run", "--config", file.toString());
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "it did not stop");
        String log = Files.readString(dir.resolve("command.log"));
        assertTrue(run.exitValue() != 0, log);
        assertTrue(
                log.contains("forwarder.http.host")
                        && log.contains("forwarder.http.token")
                        && log.contains("forwarder.http.allow_unauthenticated"),
                log);
    }

    @Test
    void checkConfigShowsTheDerivedProtocolAndWarnsAboutClearTextCredentials(@TempDir Path dir) throws Exception {
        String sasl = "gateway.observability.kafka.sasl { mechanism = \"PLAIN\", username = \"u\","
                + " password = \"s3cret-pw\" }\n";
        Path tlsByDefault = Files.writeString(dir.resolve("sasl.conf"), sasl);
        Process check = command(dir, "check-config", tlsByDefault.toString());
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        String out = Files.readString(dir.resolve("command.log"));
        assertEquals(0, check.exitValue(), out);
        assertTrue(out.contains("# derived: security_protocol = SASL_SSL"), out);
        assertFalse(out.contains("# warning"), out);

        Files.delete(dir.resolve("command.log"));
        Path clear = Files.writeString(
                dir.resolve("clear.conf"),
                sasl + "gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\"\n");
        check = command(dir, "check-config", clear.toString());
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        out = Files.readString(dir.resolve("command.log"));
        assertEquals(0, check.exitValue(), out);
        assertTrue(out.contains("# derived: security_protocol = SASL_PLAINTEXT"), out);
        assertTrue(out.contains("# warning: gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\""), out);
        assertTrue(out.contains("unencrypted"), out);
        assertFalse(out.contains("s3cret-pw"), out);
    }

    /** 50 bodies of 10 MB at once against a 256 MB heap: the ingest limit keeps the process alive. */
    @Test
    void manyLargeBodiesAtOnceDoNotExhaustTheHeap(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path file = dir.resolve("forwarder.conf");
        Files.writeString(
                file,
                "gateway.observability.kafka { brokers = \"127.0.0.1:" + freePort() + "\","
                        + " startup.require_connection = false, spool { dir = \"" + dir.resolve("spool") + "\","
                        + " drain_timeout_ms = 500 } }\n"
                        + "forwarder.http { port = " + port + ", token = \"" + TOKEN
                        + "\" }\n"); // 10 MiB bodies, 4 at once
        App app = start(file, port, dir.resolve("app.log"), List.of("-Xmx256m"));
        // One line of 10 MB whose record is invalid at its very end: read whole, parsed whole, then refused (400).
        byte[] body = ("{\"id\":\"0190c000-0000-7000-8000-000000000001\","
                        + "\"inference_id\":\"0190c000-0000-7000-8000-000000000001\",\"raw_request\":\""
                        + "x".repeat(10_000_000)
                        + "\",\"input_tokens\":\"many\"}")
                .getBytes(StandardCharsets.UTF_8);
        List<Integer> statuses = new CopyOnWriteArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        try {
            List<Thread> senders = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Thread t = new Thread(() -> {
                    try {
                        HttpRequest request = HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + port + "/v1/events/model_inference"))
                                .header("Content-Type", "application/json")
                                .header("Authorization", "Bearer " + TOKEN)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build();
                        statuses.add(http.send(request, HttpResponse.BodyHandlers.ofString())
                                .statusCode());
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
                t.start();
                senders.add(t);
            }
            for (Thread t : senders) {
                t.join(120_000);
            }
            assertEquals(List.of(), failures);
            assertEquals(50, statuses.size());
            assertTrue(statuses.stream().allMatch(s -> s == 400 || s == 503), statuses.toString());
            assertTrue(statuses.contains(503), "the limit turned some away: " + statuses);
            assertTrue(statuses.contains(400), "the others were read and checked: " + statuses);
            assertEquals(200, get(app, "/health/live", null).statusCode(), "still alive");
            assertTrue(!Files.readString(app.log()).contains("OutOfMemoryError"), Files.readString(app.log()));
        } finally {
            assertEquals(0, stop(app), Files.readString(app.log()));
        }
    }
}
