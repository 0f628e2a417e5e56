package dev.forwarder.internal.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Configuration files: TensorZero's TOML as it is, bad files with their messages, and the README reference. */
class ConfigFilesTest {

    /** The block of ../shared/seed/kafka-integration.md, unchanged. */
    static final String SEED_TOML = """
            [gateway.observability]
            enabled = true
            async_writes = true

            [gateway.observability.kafka]
            enabled = true
            brokers = "localhost:9092"  # Comma-separated list of Kafka brokers
            topic_prefix = "tensorzero"  # Prefix for all Kafka topics

            # Optional settings
            compression_type = "lz4"  # Options: none, gzip, snappy, lz4, zstd
            batch_size = 1000  # Maximum number of messages to batch
            linger_ms = 10  # Time to wait for batching messages
            request_timeout_ms = 5000  # Request timeout in milliseconds

            # Optional SASL authentication
            [gateway.observability.kafka.sasl]
            mechanism = "PLAIN"  # Options: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
            username = "your-username"
            password = "your-password"
            """;

    @TempDir
    Path dir;

    @Test
    void theSeedTomlBlockLoadsUnchangedWithTheDocumentedSettings() throws Exception {
        Path file = dir.resolve("tensorzero.toml");
        Files.writeString(file, SEED_TOML);
        ForwarderConfig c = ForwarderConfig.load(file);
        assertTrue(c.enabled());
        assertTrue(c.asyncWrites());
        ForwarderConfig.Kafka k = c.kafka();
        assertTrue(k.enabled());
        assertEquals("localhost:9092", k.brokers());
        assertEquals("tensorzero", k.topicPrefix());
        assertEquals("lz4", k.compressionType());
        assertEquals(1000, k.batchSize());
        assertEquals(10, k.lingerMs());
        assertEquals(5000, k.requestTimeoutMs());
        assertEquals("PLAIN", k.sasl().orElseThrow().mechanism());
        assertEquals("your-username", k.sasl().orElseThrow().username());
        assertEquals("your-password", k.sasl().orElseThrow().password());
        assertEquals("SASL_SSL", k.securityProtocol(), "the integration's own example, sasl alone, goes over TLS");
        assertFalse(c.toString().contains("your-password"));
    }

    @Test
    void aWholeGatewayConfigurationLoadsAndOnlyObservabilityIsRead() throws Exception {
        Path file = dir.resolve("tensorzero.toml");
        Files.writeString(file, """
                [gateway]
                bind_address = "0.0.0.0:3000"

                [gateway.observability]
                enabled = true

                [gateway.observability.kafka]
                brokers = "kafka-1:9092,kafka-2:9092"
                topic_prefix = "prod"

                [gateway.observability.kafka.producer]
                "client.id" = "gateway-1"

                [models.gpt_4o_mini]
                routing = ["openai"]

                [models.gpt_4o_mini.providers.openai]
                type = "openai"
                model_name = "gpt-4o-mini"

                [functions.extract_data]
                type = "json"
                output_schema = "functions/extract_data/output_schema.json"
                """);
        ForwarderConfig c = ForwarderConfig.load(file);
        assertEquals("kafka-1:9092,kafka-2:9092", c.kafka().brokers());
        assertEquals("prod", c.kafka().topicPrefix());
        assertEquals(Map.of("client.id", "gateway-1"), c.kafka().producer(), "a quoted TOML key stays one key");
    }

    @Test
    void invalidTomlNamesTheLine() throws Exception {
        Path file = dir.resolve("tensorzero.toml");
        Files.writeString(file, "[gateway.observability.kafka]\nbrokers = \"a:1\"\nlinger_ms = = 3\n");
        ForwarderConfigException e = assertThrows(ForwarderConfigException.class, () -> ForwarderConfig.load(file));
        assertTrue(e.getMessage().contains("not valid TOML") && e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void hoconAndJsonFilesLoadToo() throws Exception {
        Path conf = dir.resolve("forwarder.conf");
        Files.writeString(conf, "gateway.observability.kafka { brokers = \"h:1\", linger_ms = 7 }");
        assertEquals(7, ForwarderConfig.load(conf).kafka().lingerMs());
        Path json = dir.resolve("forwarder.json");
        Files.writeString(json, "{\"gateway\":{\"observability\":{\"kafka\":{\"batch_size\":50}}}}");
        assertEquals(50, ForwarderConfig.load(json).kafka().batchSize());
        ForwarderConfigException missing =
                assertThrows(ForwarderConfigException.class, () -> ForwarderConfig.load(dir.resolve("absent.conf")));
        assertTrue(missing.getMessage().contains("absent.conf does not exist"), missing.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "misspelled key      | lingr_ms = 5                           | gateway.observability.kafka.lingr_ms: unknown key (did you mean linger_ms?)",
                "misspelled nested   | sasl { mechanism = PLAIN, username = u, pasword = p } | gateway.observability.kafka.sasl.pasword: unknown key (did you mean password?)",
                "bad compression     | compression_type = brotli              | gateway.observability.kafka.compression_type: invalid value \"brotli\": must be one of gzip|lz4|none|snappy|zstd",
                "negative linger     | linger_ms = -5                         | gateway.observability.kafka.linger_ms: invalid value -5: must be at least 0",
                "fractional batch    | batch_size = 2.5                       | gateway.observability.kafka.batch_size: invalid value 2.5: must be an integer from 1 to 1000000",
                "missing brokers     | brokers = \"\"                         | gateway.observability.kafka.brokers: invalid value \"\": must list at least one host:port",
                "bad host:port       | brokers = \"kafka:99999\"              | gateway.observability.kafka.brokers: invalid value \"kafka:99999\": each entry must be host:port with a port of 1-65535",
                "no port             | brokers = \"kafka\"                    | each entry must be host:port",
                "sasl, no password   | sasl { mechanism = PLAIN, username = u } | gateway.observability.kafka.sasl.password: missing (required when gateway.observability.kafka.sasl is set)",
                "unknown mechanism   | sasl { mechanism = GSSAPI, username = u, password = p } | gateway.observability.kafka.sasl.mechanism: invalid value \"GSSAPI\": must be one of PLAIN|SCRAM-SHA-256|SCRAM-SHA-512",
                "bad protocol        | security_protocol = TLS                | gateway.observability.kafka.security_protocol: invalid value \"TLS\": must be one of PLAINTEXT|SASL_PLAINTEXT|SASL_SSL|SSL",
                "sasl protocol alone | security_protocol = SASL_SSL           | needs gateway.observability.kafka.sasl to be set",
                "missing CA file     | tls.ca_file = \"/nonexistent/ca.pem\"  | gateway.observability.kafka.tls.ca_file: invalid value \"/nonexistent/ca.pem\": must be a readable file",
                "bad on_full         | spool.on_full = wait                   | gateway.observability.kafka.spool.on_full: invalid value \"wait\": must be one of drop_newest|drop_oldest|block",
                "bad sync            | spool.sync = always                    | gateway.observability.kafka.spool.sync: invalid value \"always\": must be one of none|interval|every_record",
                "block, no timeout   | spool.on_full = block                  | needs gateway.observability.kafka.spool.block_timeout_ms above 0",
                "weakened acks       | producer { acks = 1 }                  | gateway.observability.kafka.producer.acks: invalid value 1: is set by the forwarder",
                "not a boolean       | startup.require_connection = maybe     | gateway.observability.kafka.startup.require_connection: invalid value \"maybe\": must be true or false",
            })
    void badConfigurationsGiveTheirMessage(String name, String hocon, String expected) {
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class,
                () -> ForwarderConfig.parse("gateway.observability.kafka { " + hocon + " }"));
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in:\n" + e.getMessage());
    }

    @Test
    void unknownFieldsAreRefusedByDefaultAndTheKeyIsChecked() {
        assertEquals(
                ForwarderConfig.UnknownFields.REFUSE, ForwarderConfig.defaults().unknownFields());
        assertEquals(
                ForwarderConfig.UnknownFields.CARRY,
                ForwarderConfig.parse("forwarder.schema.unknown_fields = carry").unknownFields());
        ForwarderConfigException e = assertThrows(
                ForwarderConfigException.class, () -> ForwarderConfig.parse("forwarder.schema.unknown_fields = keep"));
        assertTrue(
                e.getMessage()
                        .contains(
                                "forwarder.schema.unknown_fields: invalid value \"keep\": must be one of refuse|carry"),
                e.getMessage());
    }

    @Test
    void threeErrorsInOneFileAreAllReported() throws Exception {
        Path file = dir.resolve("bad.toml");
        Files.writeString(
                file,
                "[gateway.observability.kafka]\ncompression_type = \"brotli\"\nlinger_ms = -1\n"
                        + "brokers = \"nohost\"\n");
        ForwarderConfigException e = assertThrows(ForwarderConfigException.class, () -> ForwarderConfig.load(file));
        assertEquals(3, e.errors().size(), e.getMessage());
        assertTrue(e.getMessage().startsWith("invalid configuration, 3 errors:"), e.getMessage());
    }

    /** The key table, reference.conf (the defaults) and the README's reference list the same keys. */
    @Test
    void theKeyTableTheDefaultsAndTheReadmeListTheSameKeys() throws Exception {
        Set<String> code = new TreeSet<>();
        Set<String> optionalTables = Set.of(
                ConfigKeys.SASL.path(),
                ConfigKeys.TLS.path(),
                ConfigKeys.SPOOL_ENCRYPTION.path(),
                ConfigKeys.HTTP_TLS.path());
        Set<String> withDefaults = new TreeSet<>();
        for (ConfigKeys.Key key : ConfigKeys.all()) {
            if (key.type() != ConfigKeys.Type.TABLE) {
                code.add(key.path());
                if (!optionalTables.contains(key.parent())) {
                    withDefaults.add(key.path());
                }
            }
        }
        Config reference = ConfigFactory.parseResources("reference.conf");
        Set<String> defaults = new TreeSet<>();
        reference.entrySet().forEach(e -> defaults.add(e.getKey()));
        defaults.removeIf(k -> k.startsWith(ConfigKeys.PRODUCER.path() + "."));
        defaults.add(ConfigKeys.PRODUCER.path()); // an empty table of pass-through properties
        assertEquals(
                ConfigValueType.OBJECT,
                reference.getValue(ConfigKeys.PRODUCER.path()).valueType());
        assertEquals(withDefaults, defaults, "keys of the table (outside the optional tables) vs reference.conf");

        Path readme = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
        Set<String> documented = new TreeSet<>();
        Matcher m = Pattern.compile("^\\| `((?:gateway|forwarder)\\.[a-z_.]+)` \\|", Pattern.MULTILINE)
                .matcher(Files.readString(readme));
        while (m.find()) {
            documented.add(m.group(1));
        }
        Set<String> undocumented = new TreeSet<>(code);
        undocumented.removeAll(documented);
        Set<String> unknown = new TreeSet<>(documented);
        unknown.removeAll(code);
        assertEquals(Set.of(), undocumented, "keys missing from the README reference");
        assertEquals(Set.of(), unknown, "README keys the code does not know");
    }
}
