package dev.forwarder.sample;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample application as users run a Spring Boot service: Boot's executable jar, {@code java -jar} with no
 * JVM flag (Chronicle's {@code --add-opens}/{@code --add-exports} come from the jar's manifest, as the README
 * tells applications to do), records recorded by request handlers, then SIGTERM to that JVM while the last
 * records wait in the producer: Spring's shutdown hook drains them into Kafka before the JVM exits.
 */
@KafkaTest
class PackagedAppIT {

    private static final Path JAR = Path.of("target", "forwarder-spring-boot-sample.jar");

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theBootJarRunsWithItsManifestsFlagsAndASigtermDrainsTheLastRecords(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        assertTrue(Files.isRegularFile(JAR), "the repackaged jar is built before the integration tests: " + JAR);
        String prefix = "boot" + UUID.randomUUID().toString().substring(0, 8);
        int port = Ports.unused();
        Path log = dir.resolve("app.log");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-Dchronicle.analytics.disable=true",
                "-Dchronicle.announcer.disable=true",
                "-jar",
                JAR.toAbsolutePath().toString(),
                "--server.port=" + port,
                "--gateway.observability.kafka.brokers=" + broker.bootstrapServers(),
                "--gateway.observability.kafka.topic-prefix=" + prefix,
                "--gateway.observability.kafka.linger-ms=10000",
                "--gateway.observability.kafka.spool.dir=" + dir.resolve("spool"));
        // The JVM itself, no shell in between: SIGTERM reaches the process that holds the spool.
        Process app = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> {
                assertTrue(app.isAlive(), () -> "the application exited: " + read(log));
                return get(port, "/actuator/health").statusCode() == 200;
            });
            UUID run = UUID.randomUUID();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String id = Records.id(run, i);
                ids.add(id);
                HttpResponse<String> answer =
                        post(port, "/inferences/chat_inference", Records.json(DataType.CHAT_INFERENCE, id));
                assertEquals(202, answer.statusCode(), () -> answer.body() + "\n" + read(log));
                assertEquals("ACCEPTED", answer.body());
            }
            assertEquals(
                    404, post(port, "/inferences/nope", new byte[] {'{', '}'}).statusCode());
            String health = get(port, "/actuator/health/forwarder").body();
            assertTrue(
                    health.contains("\"backlog\":200"), "the SIGTERM lands with every record still to send: " + health);
            String metrics = get(port, "/actuator/prometheus").body();
            assertTrue(metrics.contains("forwarder_spool_records_appended_total 200.0"), metrics);

            app.destroy(); // SIGTERM
            assertTrue(app.waitFor(60, TimeUnit.SECONDS), "the application exits");
            Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
            assertEquals(List.of(), List.copyOf(delivered.missing(ids)), read(log));
            assertEquals(ids.size(), delivered.messages(), "each record once");
            String output = read(log);
            assertTrue(output.contains("forwarder closed"), "the drain ran: " + output);
            // Micrometer's Prometheus registry, first on this class path, excludes the Prometheus client's
            // tracer-initializer: the forwarder's histograms must not need it (every sampled publish threw).
            assertTrue(!output.contains("the metrics failed"), output);
            assertTrue(
                    output.lines().noneMatch(line -> line.startsWith("WARNING:")),
                    "the manifest's flags leave the JVM nothing to warn about: " + output);
        } finally {
            app.destroyForcibly();
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private HttpResponse<String> post(int port, String path, byte[] json) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
