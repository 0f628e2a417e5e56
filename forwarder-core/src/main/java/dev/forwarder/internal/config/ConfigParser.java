package dev.forwarder.internal.config;

import static dev.forwarder.internal.config.ConfigKeys.KAFKA;
import static dev.forwarder.internal.config.ConfigReader.quote;
import static dev.forwarder.internal.config.ConfigReader.sorted;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.internal.config.ConfigKeys.Key;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a Typesafe Config tree into a checked {@link ForwarderConfig}, collecting every error before it
 * fails, so that one run shows everything that is wrong with a file. The keys, their types and bounds are
 * {@link ConfigKeys}; here are the sections assembled and the rules that join two keys, each naming both.
 * Unknown keys under {@code gateway.observability.kafka} are errors, with the nearest known key suggested.
 */
public final class ConfigParser {

    /** Producer settings the delivery guarantee rests on; the pass-through may not change them. */
    static final Set<String> PROTECTED_PRODUCER_KEYS = Set.of(
            "acks",
            "enable.idempotence",
            "key.serializer",
            "value.serializer",
            "bootstrap.servers",
            "transactional.id");

    private final Config config;
    private final List<String> errors = new ArrayList<>();
    private final ConfigReader read;

    private ConfigParser(Config config) {
        this.config = config;
        this.read = new ConfigReader(config, errors);
    }

    /**
     * @param user the tree as the user wrote it (for unknown-key checks)
     * @param full the same tree with overrides and defaults, resolved
     */
    public static ForwarderConfig parse(Config user, Config full) {
        ConfigParser parser = new ConfigParser(full);
        parser.checkUnknownKafkaKeys(user);
        ForwarderConfig result = parser.read();
        if (!parser.errors.isEmpty()) {
            throw new ForwarderConfigException(parser.errors);
        }
        return result;
    }

    private ForwarderConfig read() {
        ForwarderConfig.Kafka kafka = new ForwarderConfig.Kafka(
                read.bool(ConfigKeys.KAFKA_ENABLED),
                brokers(),
                topicPrefix(),
                read.choice(ConfigKeys.COMPRESSION, s -> s.toLowerCase(Locale.ROOT)),
                read.integer(ConfigKeys.BATCH_SIZE),
                read.integer(ConfigKeys.LINGER_MS),
                read.integer(ConfigKeys.REQUEST_TIMEOUT_MS),
                sasl(),
                read.has(ConfigKeys.TLS) ? Optional.of(tls()) : Optional.empty(),
                null, // the security protocol, chosen below from sasl and tls
                new ForwarderConfig.Startup(
                        read.bool(ConfigKeys.REQUIRE_CONNECTION), read.integer(ConfigKeys.STARTUP_TIMEOUT_MS)),
                topics(),
                spool(),
                producerProperties(),
                read.enumValue(ConfigKeys.DELIVERY, ForwarderConfig.Delivery.class));
        kafka = withSecurityProtocol(kafka);
        checkTransactionTimeout(kafka);
        return new ForwarderConfig(
                read.bool(ConfigKeys.ENABLED),
                read.bool(ConfigKeys.ASYNC_WRITES),
                kafka,
                http(),
                read.enumValue(ConfigKeys.SCHEMA_UNKNOWN_FIELDS, ForwarderConfig.UnknownFields.class),
                new ForwarderConfig.Tracing(read.bool(ConfigKeys.TRACING_PROPAGATE)));
    }

    private String brokers() {
        String brokers = read.string(ConfigKeys.BROKERS);
        if (brokers == null) {
            return null;
        }
        if (brokers.isBlank()) {
            read.error(ConfigKeys.BROKERS.path(), quote(brokers), "must list at least one host:port");
            return brokers;
        }
        for (String broker : brokers.split(",")) {
            String b = broker.trim();
            int colon = b.lastIndexOf(':');
            boolean ok = colon > 0 && colon < b.length() - 1;
            if (ok) {
                try {
                    int port = Integer.parseInt(b.substring(colon + 1));
                    ok = port > 0 && port <= 65535;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                read.error(
                        ConfigKeys.BROKERS.path(),
                        quote(brokers),
                        "each entry must be host:port with a port of 1-65535; \"" + b + "\" is not");
            }
        }
        return brokers;
    }

    private String topicPrefix() {
        String topicPrefix = read.string(ConfigKeys.TOPIC_PREFIX);
        if (topicPrefix != null && !topicPrefix.matches("[a-zA-Z0-9._-]+")) {
            read.error(
                    ConfigKeys.TOPIC_PREFIX.path(),
                    quote(topicPrefix),
                    "must be non-empty and use only letters, digits, '.', '_' and '-' (Kafka topic names)");
        }
        return topicPrefix;
    }

    private Optional<ForwarderConfig.Sasl> sasl() {
        if (!read.has(ConfigKeys.SASL)) {
            return Optional.empty();
        }
        return Optional.of(new ForwarderConfig.Sasl(
                read.choice(ConfigKeys.SASL_MECHANISM, s -> s.toUpperCase(Locale.ROOT)),
                read.requiredString(ConfigKeys.SASL_USERNAME),
                read.requiredSecret(ConfigKeys.SASL_PASSWORD)));
    }

    /**
     * Credentials never go out in clear text unless asked for: with no {@code security_protocol}, sasl alone
     * means SASL over TLS (the JVM's default trust store when there is no tls block: what managed Kafka
     * services expect), tls alone SSL. A protocol that was set must agree with sasl and tls.
     */
    private ForwarderConfig.Kafka withSecurityProtocol(ForwarderConfig.Kafka kafka) {
        String path = ConfigKeys.SECURITY_PROTOCOL.path();
        String protocol = read.string(ConfigKeys.SECURITY_PROTOCOL);
        boolean sasl = kafka.sasl().isPresent();
        boolean tls = kafka.tls().isPresent();
        if (protocol == null || protocol.isBlank()) {
            protocol = sasl ? "SASL_SSL" : (tls ? "SSL" : "PLAINTEXT");
        } else {
            protocol = protocol.toUpperCase(Locale.ROOT);
            if (!ConfigKeys.SECURITY_PROTOCOL.choices().contains(protocol)) {
                read.error(path, quote(protocol), "must be one of " + sorted(ConfigKeys.SECURITY_PROTOCOL.choices()));
            } else if (protocol.startsWith("SASL") && !sasl) {
                read.error(path, quote(protocol), "needs " + ConfigKeys.SASL.path() + " to be set");
            } else if (!protocol.startsWith("SASL") && sasl) {
                read.error(
                        path,
                        quote(protocol),
                        "cannot carry " + ConfigKeys.SASL.path() + "; use SASL_"
                                + (protocol.equals("SSL") ? "SSL" : "PLAINTEXT"));
            } else if (!protocol.endsWith("SSL") && tls) {
                read.error(
                        path,
                        quote(protocol),
                        "does not use " + ConfigKeys.TLS.path() + "; use "
                                + (protocol.startsWith("SASL") ? "SASL_SSL" : "SSL"));
            }
        }
        return new ForwarderConfig.Kafka(
                kafka.enabled(),
                kafka.brokers(),
                kafka.topicPrefix(),
                kafka.compressionType(),
                kafka.batchSize(),
                kafka.lingerMs(),
                kafka.requestTimeoutMs(),
                kafka.sasl(),
                kafka.tls(),
                protocol,
                kafka.startup(),
                kafka.topics(),
                kafka.spool(),
                kafka.producer(),
                kafka.delivery());
    }

    /**
     * With {@code delivery = exactly_once} a transaction stays open up to {@code linger_ms}, and its commit may
     * take {@code request_timeout_ms}: the coordinator must not abort it for its time-out on the way.
     */
    private void checkTransactionTimeout(ForwarderConfig.Kafka kafka) {
        if (kafka.delivery() != ForwarderConfig.Delivery.EXACTLY_ONCE) {
            return;
        }
        String configured = kafka.producer().get("transaction.timeout.ms");
        long timeoutMs;
        try {
            timeoutMs = configured == null ? 60_000 : Long.parseLong(configured.trim());
        } catch (NumberFormatException e) {
            read.error(ConfigKeys.PRODUCER.path() + ".transaction.timeout.ms", quote(configured), "must be a number");
            return;
        }
        long open = (long) kafka.lingerMs() + kafka.requestTimeoutMs();
        if (open >= timeoutMs) {
            read.error(ConfigKeys.LINGER_MS.path() + " and " + ConfigKeys.REQUEST_TIMEOUT_MS.path()
                    + ": with delivery = exactly_once their sum (" + open + " ms) must be below the producer's"
                    + " transaction.timeout.ms (" + timeoutMs + " ms" + (configured == null ? ", Kafka's default" : "")
                    + "), or the transaction coordinator aborts transactions before they commit; lower linger_ms"
                    + " or raise " + ConfigKeys.PRODUCER.path() + ".\"transaction.timeout.ms\"");
        }
    }

    private ForwarderConfig.Tls tls() {
        Path ca = read.file(ConfigKeys.TLS_CA_FILE);
        Path cert = read.file(ConfigKeys.TLS_CERT_FILE);
        Path key = read.file(ConfigKeys.TLS_KEY_FILE);
        Path truststore = read.file(ConfigKeys.TLS_TRUSTSTORE_FILE);
        Path keystore = read.file(ConfigKeys.TLS_KEYSTORE_FILE);
        if (ca != null && truststore != null) {
            both(ConfigKeys.TLS_CA_FILE, ConfigKeys.TLS_TRUSTSTORE_FILE, "set one of them, not both");
        }
        if ((cert == null) != (key == null)) {
            both(ConfigKeys.TLS_CERT_FILE, ConfigKeys.TLS_KEY_FILE, "a client certificate needs both");
        }
        if (cert != null && keystore != null) {
            both(ConfigKeys.TLS_CERT_FILE, ConfigKeys.TLS_KEYSTORE_FILE, "set one of them, not both");
        }
        return new ForwarderConfig.Tls(
                ca,
                cert,
                key,
                read.optionalSecret(ConfigKeys.TLS_KEY_PASSWORD),
                truststore,
                read.optionalSecret(ConfigKeys.TLS_TRUSTSTORE_PASSWORD),
                read.storeType(ConfigKeys.TLS_TRUSTSTORE_TYPE),
                keystore,
                read.optionalSecret(ConfigKeys.TLS_KEYSTORE_PASSWORD),
                read.storeType(ConfigKeys.TLS_KEYSTORE_TYPE),
                !read.has(ConfigKeys.TLS_VERIFY_HOSTNAME) || read.bool(ConfigKeys.TLS_VERIFY_HOSTNAME));
    }

    /** An error of two keys that go together, naming both. */
    private void both(Key one, Key other, String rule) {
        read.error(one.path() + " and " + other.path() + ": " + rule);
    }

    private ForwarderConfig.Topics topics() {
        ForwarderConfig.Topics topics = new ForwarderConfig.Topics(
                read.bool(ConfigKeys.TOPICS_CREATE),
                read.integer(ConfigKeys.TOPICS_PARTITIONS),
                read.integer(ConfigKeys.TOPICS_REPLICATION_FACTOR));
        if (topics.replicationFactor() == 0) {
            read.error(ConfigKeys.TOPICS_REPLICATION_FACTOR.path(), "0", "must be -1 (broker default) or at least 1");
        }
        return topics;
    }

    private ForwarderConfig.Spool spool() {
        String dir = read.string(ConfigKeys.SPOOL_DIR);
        if (dir != null && dir.isBlank()) {
            read.error(ConfigKeys.SPOOL_DIR.path(), quote(dir), "must be a directory path");
        }
        ForwarderConfig.Spool spool = new ForwarderConfig.Spool(
                dir == null ? null : Path.of(dir),
                read.bytes(ConfigKeys.SPOOL_MAX_BYTES),
                read.enumValue(ConfigKeys.SPOOL_ON_FULL, ForwarderConfig.OnFull.class),
                read.integer(ConfigKeys.SPOOL_BLOCK_TIMEOUT_MS),
                read.enumValue(ConfigKeys.SPOOL_SYNC, ForwarderConfig.SyncPolicy.class),
                read.integer(ConfigKeys.SPOOL_SYNC_INTERVAL_MS),
                read.duration(ConfigKeys.SPOOL_RETAIN_FORWARDED),
                read.enumValue(ConfigKeys.SPOOL_ROLL_CYCLE, ForwarderConfig.RollCycle.class),
                read.integer(ConfigKeys.SPOOL_CHECKPOINT_INTERVAL_MS),
                read.integer(ConfigKeys.SPOOL_DRAIN_TIMEOUT_MS),
                Optional.ofNullable(read.file(ConfigKeys.SPOOL_KEY_FILE)),
                new ForwarderConfig.DeadLetters(
                        read.bytes(ConfigKeys.DEAD_LETTER_MAX_BYTES), read.duration(ConfigKeys.DEAD_LETTER_RETAIN)));
        if (spool.onFull() == ForwarderConfig.OnFull.BLOCK && spool.blockTimeoutMs() == 0) {
            read.error(
                    ConfigKeys.SPOOL_ON_FULL.path(),
                    "\"block\"",
                    "needs " + ConfigKeys.SPOOL_BLOCK_TIMEOUT_MS.path()
                            + " above 0: publish never blocks without a bound");
        }
        return spool;
    }

    private Map<String, String> producerProperties() {
        Map<String, String> result = new LinkedHashMap<>();
        String path = ConfigKeys.PRODUCER.path();
        if (!config.hasPath(path)) {
            return result;
        }
        // Keys with dots ("client.id") are nested objects to Typesafe Config: flatten them back.
        for (Map.Entry<String, ConfigValue> entry : config.getConfig(path).entrySet()) {
            String key = String.join(".", ConfigUtil.splitPath(entry.getKey()));
            if (PROTECTED_PRODUCER_KEYS.contains(key)) {
                read.error(
                        path + "." + key,
                        entry.getValue().render(),
                        "is set by the forwarder (acks=all, idempotence on, byte-array serialisers, brokers from "
                                + ConfigKeys.BROKERS.path() + ") and cannot be overridden");
                continue;
            }
            result.put(key, String.valueOf(entry.getValue().unwrapped()));
        }
        return Map.copyOf(result);
    }

    private ForwarderConfig.Http http() {
        ForwarderConfig.Http http = new ForwarderConfig.Http(
                read.bool(ConfigKeys.HTTP_ENABLED),
                read.string(ConfigKeys.HTTP_HOST),
                read.integer(ConfigKeys.HTTP_PORT),
                read.optionalSecret(ConfigKeys.HTTP_TOKEN),
                read.bytes(ConfigKeys.HTTP_MAX_BODY_BYTES),
                read.bool(ConfigKeys.HTTP_ALLOW_UNAUTHENTICATED),
                read.integer(ConfigKeys.HTTP_MAX_CONCURRENT),
                httpTls(),
                read.bool(ConfigKeys.HTTP_ALLOW_PLAINTEXT));
        if (http.enabled()
                && http.host() != null
                && !isLoopback(http.host())
                && (http.token() == null || http.token().isEmpty())
                && !http.allowUnauthenticated()) {
            read.error(
                    ConfigKeys.HTTP_HOST.path(),
                    quote(http.host()),
                    "is not a loopback address, and " + ConfigKeys.HTTP_TOKEN.path()
                            + " is empty: anyone who reaches the port could write records. Set "
                            + ConfigKeys.HTTP_TOKEN.path() + ", or " + ConfigKeys.HTTP_ALLOW_UNAUTHENTICATED.path()
                            + " = true to serve it open on purpose");
        }
        if (http.enabled()
                && http.host() != null
                && !isLoopback(http.host())
                && http.tls() == null
                && !http.allowPlaintext()) {
            read.error(
                    ConfigKeys.HTTP_HOST.path(),
                    quote(http.host()),
                    "is not a loopback address, and " + ConfigKeys.HTTP_TLS.path()
                            + " is not set: the bearer token and every record would cross the network in clear. Set "
                            + ConfigKeys.HTTP_TLS_CERT_FILE.path() + " and " + ConfigKeys.HTTP_TLS_KEY_FILE.path()
                            + " (or " + ConfigKeys.HTTP_TLS_KEYSTORE_FILE.path() + "), or "
                            + ConfigKeys.HTTP_ALLOW_PLAINTEXT.path()
                            + " = true to serve plain HTTP on purpose (behind a proxy that terminates TLS, say)");
        }
        return http;
    }

    /** forwarder.http.tls: a certificate chain and key in PEM, or a key store; null when absent. */
    private ForwarderConfig.HttpTls httpTls() {
        if (!read.has(ConfigKeys.HTTP_TLS)) {
            return null;
        }
        Path cert = read.file(ConfigKeys.HTTP_TLS_CERT_FILE);
        Path key = read.file(ConfigKeys.HTTP_TLS_KEY_FILE);
        Path keystore = read.file(ConfigKeys.HTTP_TLS_KEYSTORE_FILE);
        if ((cert == null) != (key == null)) {
            both(ConfigKeys.HTTP_TLS_CERT_FILE, ConfigKeys.HTTP_TLS_KEY_FILE, "the server's certificate needs both");
        }
        if (cert != null && keystore != null) {
            both(ConfigKeys.HTTP_TLS_CERT_FILE, ConfigKeys.HTTP_TLS_KEYSTORE_FILE, "set one of them, not both");
        }
        if (cert == null && key == null && keystore == null) {
            read.error(ConfigKeys.HTTP_TLS.path() + ": set " + ConfigKeys.HTTP_TLS_CERT_FILE.path() + " and "
                    + ConfigKeys.HTTP_TLS_KEY_FILE.path() + ", or " + ConfigKeys.HTTP_TLS_KEYSTORE_FILE.path());
        }
        return new ForwarderConfig.HttpTls(
                cert, key, keystore, read.optionalSecret(ConfigKeys.HTTP_TLS_KEYSTORE_PASSWORD));
    }

    /** "localhost", or an IP literal of the loopback range (127.0.0.0/8, ::1); no name is looked up. */
    static boolean isLoopback(String host) {
        String h = host.trim();
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (!h.matches("[0-9.]+") && !h.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            return false; // a host name: it may resolve to anything
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress(); // a literal: parsed, not resolved
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Every key the user wrote under gateway.observability.kafka must be one of {@link ConfigKeys}. */
    private void checkUnknownKafkaKeys(Config user) {
        if (!user.hasPath(KAFKA)) {
            return;
        }
        ConfigValue value = user.getValue(KAFKA);
        if (value.valueType() != ConfigValueType.OBJECT) {
            read.error(KAFKA, value.render(), "must be a table of settings");
            return;
        }
        checkTable(user.getObject(KAFKA), KAFKA);
    }

    private void checkTable(ConfigObject table, String path) {
        Set<String> known = ConfigKeys.namesIn(path);
        for (String name : new TreeSet<>(table.keySet())) {
            Key key = ConfigKeys.at(path + "." + name);
            if (key == null) {
                String nearest = KeySuggestions.nearest(name, known);
                read.error(path + "." + name + ": unknown key"
                        + (nearest == null ? "" : " (did you mean " + nearest + "?)") + "; known keys: "
                        + sorted(known));
            } else if (key.type() == ConfigKeys.Type.TABLE && table.get(name) instanceof ConfigObject nested) {
                checkTable(nested, key.path());
            }
        }
    }
}
