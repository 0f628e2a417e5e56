package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestCertificates;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/** SASL against a real broker with PLAIN and SCRAM users: right credentials deliver, wrong ones stop the start. */
@KafkaTest(sasl = true)
class SecurityIT {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"PLAIN, alice", "SCRAM-SHA-256, bob", "SCRAM-SHA-512, carol"})
    void theRightCredentialsDeliver(String mechanism, String user, KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = ForwarderIT.config(broker.saslBootstrapServers(), dir.resolve("spool"),
                "gateway.observability.kafka.sasl { mechanism = \"" + mechanism + "\", username = \"" + user
                        + "\", password = \"" + user + "-secret\" }");
        assertEquals("SASL_PLAINTEXT", config.kafka().securityProtocol());
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 5; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            forwarder.close();
            assertEquals(5, forwarder.status().delivered());
        }
        assertEquals(5, Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 5).distinct());
    }

    @Test
    void aWrongPasswordStopsTheStartAndAppearsNowhere(KafkaBroker broker, @TempDir Path dir) {
        String password = "Wr0ng-pa55word-" + UUID.randomUUID();
        ForwarderConfig config = ForwarderIT.config(broker.saslBootstrapServers(), dir.resolve("spool"),
                "gateway.observability.kafka.sasl { mechanism = \"SCRAM-SHA-256\", username = \"bob\","
                        + " password = \"" + password + "\" }\n"
                        + "gateway.observability.kafka.startup.timeout_ms = 15000");
        ListAppender<ILoggingEvent> logs = captureLogs();
        try {
            ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
            assertTrue(e.getMessage().startsWith("authentication to Kafka at " + broker.saslBootstrapServers()
                    + " as user \"bob\" (SCRAM-SHA-256) failed"), e.getMessage());
            assertTrue(e.getMessage().contains("check gateway.observability.kafka.sasl"), e.getMessage());
            assertFalse(e.getMessage().contains(password), "password in the exception");
            assertFalse(config.toString().contains(password), "password in toString");
            assertFalse(logs.list.isEmpty(), "the attempt was logged");
            for (ILoggingEvent event : logs.list) {
                assertFalse(text(event).contains(password), "password in a log line: " + text(event));
            }
        } finally {
            ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        }
    }

    @Test
    void anUnreachableClusterStopsTheStartWithinTheTimeOut(@TempDir Path dir) throws Exception {
        int port = Ports.unused();
        ForwarderConfig config = ForwarderIT.config("127.0.0.1:" + port, dir.resolve("spool"),
                "gateway.observability.kafka.startup.timeout_ms = 2000");
        long t0 = System.nanoTime();
        ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(e.getMessage().startsWith("no Kafka broker reachable at 127.0.0.1:" + port + " within 2000 ms"),
                e.getMessage());
        assertTrue(e.getMessage().contains("startup.require_connection = false"), e.getMessage());
        assertTrue(ms < 2000 + 10_000, "took " + ms + " ms");

        // With require_connection off it starts at once, spools, and delivers once a broker appears there.
        ForwarderConfig lenient = ForwarderIT.config("127.0.0.1:" + port, dir.resolve("spool"),
                "gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 60000 }");
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(lenient)) {
            for (int i = 0; i < 10; i++) {
                assertTrue(forwarder.publish(DataType.JSON_INFERENCE,
                        Records.json(DataType.JSON_INFERENCE, Records.id(run, i))).accepted());
            }
            try (KafkaBroker late = KafkaBroker.builder().port(port).build()) {
                late.start();
                forwarder.close();
                assertEquals(10, forwarder.status().delivered(), forwarder.status().toString());
                assertEquals(10, Delivered.read(late.clientProperties(), lenient.kafka().topicPrefix(), 10).distinct());
            }
        }
    }

    @Test
    void tlsWithTheRightCaDeliversAndWithAWrongCaFailsClearly(@TempDir Path dir) throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().tls(true).build()) {
            broker.start();
            ForwarderConfig config = ForwarderIT.config(broker.sslBootstrapServers(), dir.resolve("spool"),
                    "gateway.observability.kafka.tls.ca_file = \"" + broker.caFile() + "\"");
            assertEquals("SSL", config.kafka().securityProtocol());
            UUID run = UUID.randomUUID();
            try (Forwarder forwarder = Forwarder.start(config)) {
                for (int i = 0; i < 5; i++) {
                    forwarder.publish(DataType.MODEL_INFERENCE, Records.json(DataType.MODEL_INFERENCE, Records.id(run, i)));
                }
                forwarder.close();
                assertEquals(5, forwarder.status().delivered());
            }
            assertEquals(5, Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 5).distinct());

            Path otherCa = TestCertificates.ca(dir.resolve("other-ca"), "someone-else");
            ForwarderConfig wrong = ForwarderIT.config(broker.sslBootstrapServers(), dir.resolve("spool2"),
                    "gateway.observability.kafka.tls.ca_file = \"" + otherCa + "\"\n"
                            + "gateway.observability.kafka.startup.timeout_ms = 10000");
            ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(wrong));
            assertTrue(e.getMessage().startsWith("TLS handshake with Kafka at " + broker.sslBootstrapServers()
                    + " failed"), e.getMessage());
            assertTrue(e.getMessage().contains("gateway.observability.kafka.tls"), e.getMessage());
        }
    }

    private static ListAppender<ILoggingEvent> captureLogs() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        return appender;
    }

    private static String text(ILoggingEvent event) {
        StringBuilder b = new StringBuilder(event.getFormattedMessage());
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            b.append(' ').append(t.getMessage());
        }
        return b.toString();
    }
}
