package dev.forwarder.spring;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Spring Boot web application with the starter, against a real broker: records published in request
 * handlers arrive, Actuator shows the forwarder's health and its metrics. (A SIGTERM to the packaged
 * application: {@code PackagedAppIT} in forwarder-spring-boot-sample.)
 */
@KafkaTest
class ForwarderWebAppIT {

    private final HttpClient http = HttpClient.newHttpClient();

    private static List<String> args(KafkaBroker broker, Path dir, String prefix, int port, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=" + port,
                "--management.endpoints.web.exposure.include=health,prometheus",
                "--management.endpoint.health.show-details=always",
                "--gateway.observability.kafka.brokers=" + broker.bootstrapServers(),
                "--gateway.observability.kafka.topic-prefix=" + prefix,
                "--gateway.observability.kafka.spool.dir=" + dir.resolve("spool")));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void recordsOfRequestsArriveAndActuatorShowsHealthAndMetrics(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "web" + UUID.randomUUID().toString().substring(0, 8);
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        String prometheus;
        String health;
        String readiness;
        try (ConfigurableApplicationContext context = SpringApplication.run(
                SampleApp.class, args(broker, dir, prefix, 0).toArray(String[]::new))) {
            int port = ((WebServerApplicationContext) context).getWebServer().getPort();
            for (int i = 0; i < 100; i++) {
                String id = Records.id(run, i);
                ids.add(id);
                assertEquals("ACCEPTED", post(port, "/chat/" + id).body());
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> get(port, "/actuator/health/forwarder").body().contains("\"backlog\":0"));
            HttpResponse<String> h = get(port, "/actuator/health/forwarder");
            assertEquals(200, h.statusCode(), h.body());
            health = h.body();
            prometheus = get(port, "/actuator/prometheus").body();
            readiness = get(port, "/actuator/health/readiness").body();
        }
        assertTrue(health.contains("\"status\":\"UP\""), health);
        assertTrue(health.contains("\"state\":\"FORWARDING\""), health);
        JsonNode group = new ObjectMapper().readTree(readiness);
        assertEquals(
                "UP", group.path("components").path("forwarder").path("status").asText(), readiness);
        assertEquals(
                "UP",
                group.path("components").path("readinessState").path("status").asText(),
                readiness);
        assertTrue(prometheus.contains("kafka_writes_success_total{"), prometheus);
        assertTrue(prometheus.contains("forwarder_spool_backlog_records "), prometheus);
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(ids.size(), delivered.messages());
    }

    /**
     * A full spool (Kafka unreachable, 16 MiB of records) turns {@code /actuator/health/forwarder} and the
     * readiness group OUT_OF_SERVICE, answered with 503 so that a load balancer takes the instance out.
     */
    @Test
    void theHealthEndpointTurnsOutOfServiceOnAFullSpool(@TempDir Path dir) throws Exception {
        List<String> args = List.of(
                "--server.port=0",
                "--management.endpoints.web.exposure.include=health",
                "--management.endpoint.health.show-details=always",
                "--gateway.observability.kafka.brokers=127.0.0.1:1",
                "--gateway.observability.kafka.startup.require-connection=false",
                "--gateway.observability.kafka.spool.dir=" + dir.resolve("spool"),
                "--gateway.observability.kafka.spool.max-bytes=16MiB",
                "--gateway.observability.kafka.spool.drain-timeout-ms=0");
        try (ConfigurableApplicationContext context =
                SpringApplication.run(SampleApp.class, args.toArray(String[]::new))) {
            int port = ((WebServerApplicationContext) context).getWebServer().getPort();
            assertEquals(200, get(port, "/actuator/health/forwarder").statusCode(), "Kafka away: the spool takes them");
            // The spool guard's next measurement (every 100 ms) may find room for a few more records again,
            // so the assertions read the answers given right after a refusal, not later ones.
            int[] request = {0};
            List<HttpResponse<String>> answers = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                String status;
                do { // requests of 1,000 records until one is refused, then ask the health
                    status = post(port, "/chat/r" + request[0]++ + "?copies=1000")
                            .body();
                } while (status.equals("ACCEPTED"));
                assertEquals("DROPPED_SPOOL_FULL", status);
                answers.clear();
                answers.add(get(port, "/actuator/health/forwarder"));
                answers.add(get(port, "/actuator/health/readiness"));
                return answers.get(0).statusCode() == 503 && answers.get(1).statusCode() == 503;
            });
            HttpResponse<String> health = answers.get(0);
            assertEquals(503, health.statusCode(), health.body());
            assertTrue(health.body().contains("\"status\":\"OUT_OF_SERVICE\""), health.body());
            HttpResponse<String> readiness = answers.get(1);
            assertEquals(503, readiness.statusCode(), readiness.body());
        }
    }

    private HttpResponse<String> post(int port, String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .POST(HttpRequest.BodyPublishers.noBody())
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
