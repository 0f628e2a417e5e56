package dev.forwarder.internal.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration: defaults, TensorZero's keys, and errors that name key, value and what is allowed. */
class ConfigParserTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        ForwarderConfig c = ForwarderConfig.defaults();
        assertTrue(c.enabled());
        assertTrue(c.asyncWrites());
        ForwarderConfig.Kafka k = c.kafka();
        assertEquals("localhost:9092", k.brokers());
        assertEquals("tensorzero", k.topicPrefix());
        assertEquals("lz4", k.compressionType());
        assertEquals(1000, k.batchSize());
        assertEquals(10, k.lingerMs());
        assertEquals(5000, k.requestTimeoutMs());
        assertEquals("PLAINTEXT", k.securityProtocol());
        assertTrue(k.sasl().isEmpty());
        assertEquals(Path.of("forwarder-data/spool"), k.spool().dir());
        assertEquals(1L << 30, k.spool().maxBytes());
        assertEquals(ForwarderConfig.OnFull.DROP_NEWEST, k.spool().onFull());
        assertEquals(ForwarderConfig.SyncPolicy.NONE, k.spool().sync());
        assertEquals(Duration.ZERO, k.spool().retainForwarded());
        assertEquals(3, k.topics().partitions());
    }

    @Test
    void allErrorsOfAFileAreReportedTogetherNamingKeyValueAndWhatIsAllowed() {
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse(
                        "gateway.observability.kafka { compression_type = \"brotli\", linger_ms = -5, lingr_ms = 3 }"));
        assertEquals(3, e.errors().size(), e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains("gateway.observability.kafka.compression_type: invalid value \"brotli\":"
                                + " must be one of gzip|lz4|none|snappy|zstd"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("gateway.observability.kafka.linger_ms: invalid value -5: must be at least 0"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("gateway.observability.kafka.lingr_ms: unknown key (did you mean linger_ms?)"),
                e.getMessage());
    }

    @Test
    void saslPasswordIsRequiredAndNeverShown() {
        ForwarderConfigException missing = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse(
                        "gateway.observability.kafka.sasl { mechanism = \"PLAIN\", username = \"u\" }"));
        assertTrue(
                missing.getMessage().contains("gateway.observability.kafka.sasl.password: missing"),
                missing.getMessage());

        ForwarderConfig c = ForwarderConfig.parse("gateway.observability.kafka.sasl { mechanism = \"SCRAM-SHA-512\","
                + " username = \"u\", password = \"hunter2-secret\" }");
        assertEquals("SASL_SSL", c.kafka().securityProtocol());
        assertFalse(c.toString().contains("hunter2-secret"), c.toString());
        assertTrue(c.toString().contains("password=****"));
    }

    @Test
    void saslAloneMeansTlsAndClearTextIsOnlyEverExplicitAndWarnedAbout(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        String sasl =
                "gateway.observability.kafka.sasl { mechanism = \"PLAIN\", username = \"u\", password = \"p-secret\" }\n";
        ForwarderConfig.Kafka derived = ForwarderConfig.parse(sasl).kafka();
        assertEquals("SASL_SSL", derived.securityProtocol());
        assertTrue(derived.tls().isEmpty(), "no tls block: the JVM's default trust store");
        assertTrue(derived.securityWarning().isEmpty());
        assertEquals(
                "SASL_SSL",
                ForwarderConfig.parse(sasl + "gateway.observability.kafka.tls.ca_file = \"" + ca + "\"")
                        .kafka()
                        .securityProtocol());

        ForwarderConfig.Kafka clear = ForwarderConfig.parse(
                        sasl + "gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\"")
                .kafka();
        assertEquals("SASL_PLAINTEXT", clear.securityProtocol());
        String warning = clear.securityWarning().orElseThrow();
        assertTrue(
                warning.startsWith("gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\": the SASL"
                        + " credentials and every record"),
                warning);
        assertTrue(warning.contains("unencrypted"), warning);
        assertFalse(warning.contains("p-secret"), warning);
        assertTrue(ForwarderConfig.parse("").kafka().securityWarning().isEmpty(), "PLAINTEXT carries no password");
    }

    @Test
    void badBrokerListsAndProtectedProducerSettingsAreRefused() {
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse(
                        "gateway.observability.kafka { brokers = \"kafka1:9092,kafka2\", producer { acks = \"1\" } }"));
        assertTrue(
                e.getMessage()
                        .contains("gateway.observability.kafka.brokers: invalid value \"kafka1:9092,kafka2\""
                                + ": each entry must be host:port"),
                e.getMessage());
        assertTrue(e.getMessage().contains("gateway.observability.kafka.producer.acks"), e.getMessage());
    }

    @Test
    void producerPassThroughKeepsDottedKeys() {
        ForwarderConfig c = ForwarderConfig.parse(
                "gateway.observability.kafka.producer { \"client.id\" = \"gw-1\", \"max.request.size\" = 2097152 }");
        assertEquals("gw-1", c.kafka().producer().get("client.id"));
        assertEquals("2097152", c.kafka().producer().get("max.request.size"));
    }

    /** HTTP open to the network in clear refuses to start, naming the keys, unless that is said explicitly. */
    @Test
    void aNonLoopbackHostWithoutTlsIsRefusedUnlessPlaintextIsAllowedExplicitly(@TempDir Path dir) throws Exception {
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse("forwarder.http { host = \"0.0.0.0\", token = \"s3cret\" }"));
        assertTrue(
                e.getMessage().contains("forwarder.http.host: invalid value \"0.0.0.0\"")
                        && e.getMessage().contains("forwarder.http.tls.cert_file")
                        && e.getMessage().contains("forwarder.http.allow_plaintext")
                        && !e.getMessage().contains("s3cret"),
                e.getMessage());
        Path cert = Files.writeString(dir.resolve("server.pem"), "-----BEGIN CERTIFICATE-----\n");
        Path key = Files.writeString(dir.resolve("server.key"), "-----BEGIN PRIVATE KEY-----\n");
        ForwarderConfig.Http tls = ForwarderConfig.parse("forwarder.http { host = \"0.0.0.0\", token = \"s3cret\","
                        + " tls { cert_file = \"" + cert + "\", key_file = \"" + key + "\" } }")
                .http();
        assertEquals(cert, tls.tls().certFile());
        assertEquals(key, tls.tls().keyFile());
        assertEquals(null, ForwarderConfig.parse("").http().tls());

        ForwarderConfigException half = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse("forwarder.http.tls.cert_file = \"" + cert + "\""));
        assertTrue(
                half.getMessage().contains("forwarder.http.tls.cert_file and forwarder.http.tls.key_file"),
                half.getMessage());
        ForwarderConfigException empty =
                assertThrows(ForwarderConfigException.class, () -> ForwarderConfig.parse("forwarder.http.tls {}"));
        assertTrue(empty.getMessage().contains("forwarder.http.tls: set"), empty.getMessage());
    }

    /** HTTP ingest open to the network without a token refuses to start, unless that is said explicitly. */
    @Test
    void aNonLoopbackHostWithoutATokenIsRefusedUnlessAllowedExplicitly() {
        for (String open : new String[] {"0.0.0.0", "192.0.2.7", "ingest.example", "::"}) {
            ForwarderConfigException e = assertThrows(
                    ForwarderConfigException.class,
                    () -> ForwarderConfig.parse("forwarder.http.host = \"" + open + "\""));
            assertTrue(
                    e.getMessage().contains("forwarder.http.host")
                            && e.getMessage().contains("forwarder.http.token")
                            && e.getMessage().contains("forwarder.http.allow_unauthenticated"),
                    e.getMessage());
        }
        for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"}) {
            assertEquals(
                    loopback,
                    ForwarderConfig.parse("forwarder.http.host = \"" + loopback + "\"")
                            .http()
                            .host());
        }
        assertEquals(
                "s3cret",
                ForwarderConfig.parse("forwarder.http { host = \"0.0.0.0\", token = \"s3cret\","
                                + " allow_plaintext = true }")
                        .http()
                        .token());
        assertTrue(ForwarderConfig.parse("forwarder.http { host = \"0.0.0.0\", allow_unauthenticated = true,"
                        + " allow_plaintext = true }")
                .http()
                .allowUnauthenticated());
        assertEquals(4, ForwarderConfig.parse("").http().maxConcurrent());
        assertThrows(ForwarderConfigException.class, () -> ForwarderConfig.parse("forwarder.http.max_concurrent = 0"));
    }

    /** exactly_once: a transaction open for linger_ms plus its commit must end before the coordinator's time-out. */
    @Test
    void lingerThatOutlastsTheTransactionTimeOutIsRefusedNamingBothKeys() {
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse(
                        "gateway.observability.kafka { delivery = exactly_once, linger_ms = 58000 }"));
        assertTrue(
                e.getMessage()
                        .contains("gateway.observability.kafka.linger_ms and"
                                + " gateway.observability.kafka.request_timeout_ms"),
                e.getMessage());
        assertTrue(e.getMessage().contains("transaction.timeout.ms (60000 ms, Kafka's default)"), e.getMessage());
        ForwarderConfig.parse("gateway.observability.kafka { delivery = exactly_once, linger_ms = 58000,"
                + " producer { \"transaction.timeout.ms\" = 120000 } }");
        ForwarderConfig.parse("gateway.observability.kafka { linger_ms = 58000 }"); // at_least_once: no transaction
    }
}
