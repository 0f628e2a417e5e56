package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.JavaProcess;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestCertificates;
import dev.forwarder.testkit.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * SASL and TLS against a real broker with PLAIN and SCRAM users on SASL_SSL and SASL_PLAINTEXT listeners:
 * sasl alone goes over TLS, right credentials deliver, clear text only when asked for (and warned about),
 * wrong credentials or a listener without TLS stop the start with a message that says what to change.
 */
@KafkaTest(sasl = true, tls = true)
class SecurityIT {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"PLAIN, alice", "SCRAM-SHA-256, bob", "SCRAM-SHA-512, carol"})
    void theRightCredentialsDeliverOverTls(String mechanism, String user, KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.saslSslBootstrapServers(), dir.resolve("spool"))
                .with(sasl(mechanism, user, user + "-secret") + "gateway.observability.kafka.tls.ca_file = \""
                        + broker.caFile() + "\"")
                .build();
        assertEquals("SASL_SSL", config.kafka().securityProtocol());
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 5; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
            }
            forwarder.close();
            assertEquals(5, forwarder.status().delivered());
        }
        assertEquals(
                5,
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 5)
                        .distinct());
    }

    /**
     * The integration's own example (a sasl block, nothing else) in a JVM whose default trust store holds the
     * broker's CA, as a managed service's public CA is in every JDK's: it connects over TLS with no tls block.
     */
    @Test
    void saslAloneUsesTlsWithTheJvmDefaultTrustStore(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "t" + UUID.randomUUID().toString().substring(0, 8);
        Path output = dir.resolve("child.log");
        Process child = JavaProcess.start(
                List.of(
                        "-Djavax.net.ssl.trustStore=" + broker.caTrustStore(),
                        "-Djavax.net.ssl.trustStorePassword=" + TestCertificates.PASSWORD,
                        "-Djavax.net.ssl.trustStoreType=PKCS12"),
                SaslOnlyChild.class,
                output,
                broker.saslSslBootstrapServers(),
                dir.resolve("spool").toString(),
                prefix);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child did not finish");
        String log = Files.readString(output);
        assertEquals(0, child.exitValue(), log);
        assertTrue(log.contains("security_protocol SASL_SSL, tls block absent"), log);
        assertTrue(log.contains("delivered 7"), log);
        assertFalse(log.contains("alice-secret"), log);
        assertEquals(7, Delivered.read(broker.clientProperties(), prefix, 7).distinct());
    }

    @Test
    void saslAloneAgainstAListenerWithoutTlsFailsSayingTlsWasExpectedAndHowToOptOut(
            KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.saslBootstrapServers(), dir.resolve("spool"))
                .with(sasl("PLAIN", "alice", "alice-secret") + "gateway.observability.kafka.startup.timeout_ms = 10000")
                .build();
        ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
        assertTrue(e.getMessage().contains("security_protocol = \"SASL_PLAINTEXT\""), e.getMessage());
        assertTrue(e.getMessage().contains(broker.saslBootstrapServers()), e.getMessage());
        assertFalse(e.getMessage().contains("alice-secret"), e.getMessage());
    }

    @Test
    void clearTextSaslIsPossibleExplicitlyAndWarnedAboutAtStart(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.saslBootstrapServers(), dir.resolve("spool"))
                .with(sasl("SCRAM-SHA-512", "carol", "carol-secret")
                        + "gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\"")
                .build();
        ListAppender<ILoggingEvent> logs = captureLogs();
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            forwarder.publish(DataType.JSON_INFERENCE, Records.json(DataType.JSON_INFERENCE, Records.id(run, 0)));
            forwarder.close();
            assertEquals(1, forwarder.status().delivered());
        } finally {
            ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        }
        assertTrue(
                logs.list.stream()
                        .anyMatch(event -> event.getLevel() == Level.WARN
                                && event.getFormattedMessage().contains("SASL_PLAINTEXT")
                                && event.getFormattedMessage().contains("unencrypted")),
                "no warning about clear text");
    }

    @Test
    void aWrongPasswordStopsTheStartAndAppearsNowhere(KafkaBroker broker, @TempDir Path dir) {
        String password = "Wr0ng-pa55word-" + UUID.randomUUID();
        ForwarderConfig config = TestConfig.forBroker(broker.saslSslBootstrapServers(), dir.resolve("spool"))
                .with(sasl("SCRAM-SHA-256", "bob", password)
                        + "gateway.observability.kafka.tls.ca_file = \"" + broker.caFile() + "\"\n"
                        + "gateway.observability.kafka.startup.timeout_ms = 15000")
                .build();
        ListAppender<ILoggingEvent> logs = captureLogs();
        try {
            ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
            assertTrue(
                    e.getMessage()
                            .startsWith("authentication to Kafka at " + broker.saslSslBootstrapServers()
                                    + " as user \"bob\" (SCRAM-SHA-256) failed"),
                    e.getMessage());
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
        ForwarderConfig config = TestConfig.forBroker("127.0.0.1:" + port, dir.resolve("spool"))
                .with("gateway.observability.kafka.startup.timeout_ms = 2000")
                .build();
        long t0 = System.nanoTime();
        ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(
                e.getMessage().startsWith("no Kafka broker reachable at 127.0.0.1:" + port + " within 2000 ms"),
                e.getMessage());
        assertTrue(e.getMessage().contains("startup.require_connection = false"), e.getMessage());
        assertTrue(ms < 2000 + 10_000, "took " + ms + " ms");

        // With require_connection off it starts at once, spools, and delivers once a broker appears there.
        ForwarderConfig lenient = TestConfig.forBroker("127.0.0.1:" + port, dir.resolve("spool"))
                .with(
                        "gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 60000 }")
                .build();
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(lenient)) {
            for (int i = 0; i < 10; i++) {
                assertTrue(forwarder
                        .publish(DataType.JSON_INFERENCE, Records.json(DataType.JSON_INFERENCE, Records.id(run, i)))
                        .accepted());
            }
            try (KafkaBroker late = KafkaBroker.builder().port(port).build()) {
                late.start();
                forwarder.close();
                assertEquals(
                        10, forwarder.status().delivered(), forwarder.status().toString());
                assertEquals(
                        10,
                        Delivered.read(late.clientProperties(), lenient.kafka().topicPrefix(), 10)
                                .distinct());
            }
        }
    }

    @Test
    void tlsWithTheRightCaDeliversAndWithAWrongCaFailsClearly(KafkaBroker broker, @TempDir Path dir) throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.sslBootstrapServers(), dir.resolve("spool"))
                .with("gateway.observability.kafka.tls.ca_file = \"" + broker.caFile() + "\"")
                .build();
        assertEquals("SSL", config.kafka().securityProtocol());
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 5; i++) {
                forwarder.publish(DataType.MODEL_INFERENCE, Records.json(DataType.MODEL_INFERENCE, Records.id(run, i)));
            }
            forwarder.close();
            assertEquals(5, forwarder.status().delivered());
        }
        assertEquals(
                5,
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 5)
                        .distinct());

        Path otherCa = TestCertificates.ca(dir.resolve("other-ca"), "someone-else");
        ForwarderConfig wrong = TestConfig.forBroker(broker.sslBootstrapServers(), dir.resolve("spool2"))
                .with("gateway.observability.kafka.tls.ca_file = \"" + otherCa + "\"\n"
                        + "gateway.observability.kafka.startup.timeout_ms = 10000")
                .build();
        ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(wrong));
        assertTrue(
                e.getMessage().startsWith("TLS handshake with Kafka at " + broker.sslBootstrapServers() + " failed"),
                e.getMessage());
        assertTrue(e.getMessage().contains("gateway.observability.kafka.tls"), e.getMessage());
    }

    /** {@code brokers spoolDir topicPrefix}: a sasl block only, 7 records, printed what it used and delivered. */
    public static final class SaslOnlyChild {
        public static void main(String[] args) {
            ForwarderConfig config = TestConfig.forBroker(args[0], Path.of(args[1]))
                    .with(sasl("PLAIN", "alice", "alice-secret") + "gateway.observability.kafka.topic_prefix = "
                            + args[2])
                    .build();
            System.out.println("security_protocol " + config.kafka().securityProtocol() + ", tls block "
                    + (config.kafka().tls().isPresent() ? "present" : "absent"));
            UUID run = UUID.randomUUID();
            try (Forwarder forwarder = Forwarder.start(config)) {
                for (int i = 0; i < 7; i++) {
                    forwarder.publish(
                            DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
                }
                forwarder.close();
                System.out.println("delivered " + forwarder.status().delivered());
            }
            System.exit(0);
        }
    }

    private static String sasl(String mechanism, String user, String password) {
        return "gateway.observability.kafka.sasl { mechanism = \"" + mechanism + "\", username = \"" + user
                + "\", password = \"" + password + "\" }\n";
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
