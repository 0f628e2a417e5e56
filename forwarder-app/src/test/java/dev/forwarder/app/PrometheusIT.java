package dev.forwarder.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.DataType;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of {@code ops/} against a real Prometheus (Debian's package, installed by the test when missing):
 * promtool checks the alert rules and runs their unit tests; a Prometheus on loopback scrapes the packaged
 * forwarder (against the test broker, records flowing over HTTP ingest), evaluates the alert rules without
 * error, and answers every query of the Grafana dashboard with at least one series.
 */
@KafkaTest
class PrometheusIT {

    private static final Path OPS =
            Path.of(System.getProperty("user.dir")).getParent().resolve("ops");
    private static final String TOKEN = "prometheus-it-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void promtoolChecksTheRulesAndEveryAlertsUnitTestPasses() throws Exception {
        Path promtool = installed("promtool");
        String check = run(
                promtool.toString(),
                "check",
                "rules",
                OPS.resolve("prometheus/alerts.yml").toString());
        assertTrue(check.contains("SUCCESS: 13 rules found"), check);
        String test = run(
                promtool.toString(),
                "test",
                "rules",
                OPS.resolve("prometheus/alerts-test.yml").toString());
        assertTrue(test.contains("SUCCESS"), test);
        // Every alert of the rules has a unit test that shows it firing.
        String rules = Files.readString(OPS.resolve("prometheus/alerts.yml"));
        String tests = Files.readString(OPS.resolve("prometheus/alerts-test.yml"));
        for (String alert : names(rules, "- alert: ")) {
            assertTrue(
                    tests.contains("alertname: " + alert + "\n        exp_alerts:\n          - exp_labels"),
                    alert + " has no unit test where it fires");
            assertTrue(
                    tests.contains("alertname: " + alert + "\n        exp_alerts: []"),
                    alert + " has no unit test where it does not fire");
        }
    }

    @Test
    void prometheusScrapesTheForwarderAndAnswersEveryDashboardQuery(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path prometheusBinary = installed("prometheus");
        int appPort = Ports.unused();
        int promPort = Ports.unused();
        Path config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix("prom" + UUID.randomUUID().toString().substring(0, 8))
                .with("forwarder.http { port = " + appPort + ", token = \"" + TOKEN + "\" }")
                .writeTo(dir.resolve("forwarder.conf"));
        Path promConfig = dir.resolve("prometheus.yml");
        Files.writeString(
                promConfig,
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        + "rule_files:\n  - " + OPS.resolve("prometheus/alerts.yml") + "\n"
                        + "scrape_configs:\n  - job_name: forwarder\n    metrics_path: /metrics\n"
                        + "    authorization:\n      credentials: " + TOKEN + "\n"
                        + "    static_configs:\n      - targets: ['127.0.0.1:" + appPort + "']\n");
        Path appLog = dir.resolve("app.log");
        Process app = ForwarderJar.command("run", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(appLog.toFile())
                .start();
        Process prometheus = new ProcessBuilder(
                        prometheusBinary.toString(),
                        "--config.file=" + promConfig,
                        "--storage.tsdb.path=" + dir.resolve("tsdb"),
                        "--web.listen-address=127.0.0.1:" + promPort)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        AtomicBoolean publishing = new AtomicBoolean(true);
        AtomicInteger accepted = new AtomicInteger();
        Thread publisher = new Thread(() -> publish(appPort, publishing, accepted), "publisher");
        try {
            ForwarderJar.awaitLog(app, appLog, ForwarderJar.STARTED, Duration.ofSeconds(90));
            publisher.start();
            String base = "http://127.0.0.1:" + promPort;
            assertEquals(
                    1.0,
                    awaitValue(base, "up{job=\"forwarder\"}", 60),
                    "Prometheus scrapes the forwarder: " + Files.readString(dir.resolve("prometheus.log")));
            assertTrue(awaitValue(base, "sum(kafka_writes_success_total)", 60) > 0, "records delivered");

            List<String> failed = new ArrayList<>();
            JsonNode dashboard =
                    JSON.readTree(OPS.resolve("grafana/forwarder.json").toFile());
            // Provisionable from the file: the data source is a variable (no import-time __inputs), and every
            // query is filtered by the job and instance variables.
            List<String> variables = new ArrayList<>();
            dashboard
                    .path("templating")
                    .path("list")
                    .forEach(v -> variables.add(v.get("name").asText()));
            assertEquals(List.of("datasource", "job", "instance"), variables);
            assertTrue(dashboard.path("__inputs").isMissingNode(), "no import-time inputs");
            int queries = 0;
            for (JsonNode panel : dashboard.get("panels")) {
                assertTrue(panel.path("targets").size() > 0, "panel " + panel.get("title") + " has no query");
                for (JsonNode target : panel.get("targets")) {
                    assertEquals(
                            "${datasource}",
                            target.path("datasource").path("uid").asText(),
                            target.toString());
                    String raw = target.get("expr").asText();
                    java.util.regex.Matcher metric = java.util.regex.Pattern.compile(
                                    "\\b(spool|kafka|forwarder)_[a-z_]+(\\{[^}]*\\})?")
                            .matcher(raw);
                    while (metric.find()) {
                        assertTrue(
                                String.valueOf(metric.group(2)).contains("job=~\"$job\", instance=~\"$instance\""),
                                "not filtered by job and instance: " + metric.group() + " in " + raw);
                    }
                    // As Grafana sends it with job and instance at "All" (their allValue, .+).
                    String expr = raw.replace("$__rate_interval", "30s")
                            .replace("$job", ".+")
                            .replace("$instance", ".+");
                    queries++;
                    if (awaitSeries(base, expr, 60).isEmpty()) {
                        failed.add(panel.get("title").asText() + ": " + expr);
                    }
                }
            }
            assertEquals(List.of(), failed, "dashboard queries that returned no series");
            assertEquals(18, queries);

            // The alert rules evaluate against the real metrics without an error (a bad vector match would).
            JsonNode groups = get(base + "/api/v1/rules").path("data").path("groups");
            int rules = 0;
            for (JsonNode group : groups) {
                for (JsonNode rule : group.get("rules")) {
                    rules++;
                    assertEquals("ok", rule.get("health").asText(), rule.toString());
                    // Nothing is wrong here: no dead letter, no corrupt record, no drop (those fire at once).
                    assertTrue(!rule.get("state").asText().equals("firing"), rule.toString());
                }
            }
            assertEquals(13, rules);
        } finally {
            publishing.set(false);
            publisher.join(10_000);
            prometheus.destroy();
            app.destroy();
            assertTrue(prometheus.waitFor(30, TimeUnit.SECONDS));
            assertTrue(app.waitFor(60, TimeUnit.SECONDS));
        }
        assertTrue(accepted.get() > 0);
    }

    /** Posts a chat and a model inference every 100 ms until told to stop. */
    private void publish(int port, AtomicBoolean publishing, AtomicInteger accepted) {
        UUID run = UUID.randomUUID();
        int seq = 0;
        while (publishing.get()) {
            for (DataType type : List.of(DataType.CHAT_INFERENCE, DataType.MODEL_INFERENCE)) {
                try {
                    HttpRequest request = HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + "/v1/events/" + type.wireName()))
                            .header("Authorization", "Bearer " + TOKEN)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(Records.json(type, Records.id(run, seq++))))
                            .build();
                    if (http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 202) {
                        accepted.incrementAndGet();
                    }
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException e) {
                    // the app is stopping
                }
            }
        }
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> response =
                http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), url + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private JsonNode query(String base, String expr) throws Exception {
        JsonNode answer = get(base + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        assertEquals("success", answer.get("status").asText(), expr + ": " + answer);
        return answer.path("data").path("result");
    }

    /** The result of a query once it has a series (rates need two scrapes); empty if none came in time. */
    private JsonNode awaitSeries(String base, String expr, int seconds) {
        try {
            return await().atMost(Duration.ofSeconds(seconds))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> query(base, expr), result -> !result.isEmpty());
        } catch (ConditionTimeoutException e) {
            return JSON.createArrayNode();
        }
    }

    /** The query's first value once it is above 0 (NaN without a series), or what it is at the time-out. */
    private double awaitValue(String base, String expr, int seconds) throws Exception {
        try {
            return await().atMost(Duration.ofSeconds(seconds))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> valueOf(query(base, expr)), value -> value > 0);
        } catch (ConditionTimeoutException e) {
            return valueOf(query(base, expr));
        }
    }

    private static double valueOf(JsonNode result) {
        return result.isEmpty() ? Double.NaN : result.get(0).get("value").get(1).asDouble();
    }

    private static Set<String> names(String text, String prefix) {
        Set<String> names = new LinkedHashSet<>();
        text.lines()
                .map(String::strip)
                .filter(l -> l.startsWith(prefix))
                .forEach(l -> names.add(l.substring(prefix.length()).strip()));
        return names;
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    /**
     * Debian's prometheus package (it brings promtool), installed with apt-get when missing. Where it cannot
     * be installed (not root, no package source) the test is skipped and the report says why.
     */
    private static Path installed(String tool) throws Exception {
        Path binary = Path.of("/usr/bin", tool);
        if (!Files.isExecutable(binary)) {
            String out = "";
            for (String[] step : new String[][] {
                {"apt-get", "install", "-y", "-q", "prometheus"},
                {"apt-get", "update", "-q"},
                {"apt-get", "install", "-y", "-q", "prometheus"}
            }) {
                if (Files.isExecutable(binary)) {
                    break;
                }
                try {
                    Process install =
                            new ProcessBuilder(step).redirectErrorStream(true).start();
                    out += new String(install.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    install.waitFor(600, TimeUnit.SECONDS);
                } catch (IOException e) {
                    out += e + "\n";
                }
            }
            Assumptions.assumeTrue(
                    Files.isExecutable(binary),
                    tool + " is missing and apt-get install prometheus failed, so the real-Prometheus test"
                            + " cannot run:\n" + out);
        }
        return binary;
    }
}
