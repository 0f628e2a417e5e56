package dev.forwarder.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Turns a Typesafe Config tree into a checked {@link ForwarderConfig}, collecting every error before it
 * fails, so that one run shows everything that is wrong with a file.
 *
 * <p>Each error names the full key, the bad value and what is allowed, in the style of Kafka's own
 * {@code ConfigDef}: {@code gateway.observability.kafka.linger_ms: invalid value -5: must be at least 0}.
 * Unknown keys under {@code gateway.observability.kafka} are errors, with the nearest known key suggested.
 */
public final class ConfigParser {

    public static final String ROOT = "gateway.observability";
    public static final String KAFKA = ROOT + ".kafka";

    static final Set<String> KAFKA_KEYS = Set.of(
            "enabled",
            "brokers",
            "topic_prefix",
            "compression_type",
            "batch_size",
            "linger_ms",
            "request_timeout_ms",
            "sasl",
            "security_protocol",
            "tls",
            "startup",
            "topics",
            "spool",
            "producer",
            "delivery");
    /** Known keys of the nested tables; unknown ones there are errors too. */
    static final Map<String, Set<String>> NESTED_KEYS = Map.of(
            "sasl", Set.of("mechanism", "username", "password"),
            "tls",
                    Set.of(
                            "ca_file",
                            "cert_file",
                            "key_file",
                            "key_password",
                            "truststore_file",
                            "truststore_password",
                            "truststore_type",
                            "keystore_file",
                            "keystore_password",
                            "keystore_type",
                            "verify_hostname"),
            "startup", Set.of("require_connection", "timeout_ms"),
            "topics", Set.of("create", "partitions", "replication_factor"),
            "spool",
                    Set.of(
                            "dir",
                            "max_bytes",
                            "on_full",
                            "block_timeout_ms",
                            "sync",
                            "sync_interval_ms",
                            "retain_forwarded",
                            "roll_cycle",
                            "checkpoint_interval_ms",
                            "drain_timeout_ms",
                            "encryption"));

    static final Set<String> ENCRYPTION_KEYS = Set.of("key_file");
    static final Set<String> COMPRESSION = Set.of("none", "gzip", "snappy", "lz4", "zstd");
    static final Set<String> SASL_MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
    static final Set<String> SECURITY_PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
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

    private ConfigParser(Config config) {
        this.config = config;
    }

    /**
     * A configuration file as written, without defaults: TensorZero TOML ({@code .toml}), JSON
     * ({@code .json}) or HOCON (anything else).
     *
     * @throws ForwarderConfigException if it is missing or does not parse
     */
    public static Config readFile(Path file) {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new ForwarderConfigException(List.of("configuration file " + file + " does not exist"));
        }
        String name = file.getFileName().toString();
        if (name.endsWith(".toml")) {
            return TomlReader.read(file);
        }
        com.typesafe.config.ConfigSyntax syntax =
                name.endsWith(".json") ? com.typesafe.config.ConfigSyntax.JSON : com.typesafe.config.ConfigSyntax.CONF;
        try {
            return com.typesafe.config.ConfigFactory.parseFile(
                    file.toFile(),
                    com.typesafe.config.ConfigParseOptions.defaults()
                            .setSyntax(syntax)
                            .setAllowMissing(false));
        } catch (ConfigException e) {
            throw new ForwarderConfigException(List.of(e.getMessage())); // names the file and line itself
        }
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
        boolean enabled = bool(ROOT + ".enabled");
        boolean asyncWrites = bool(ROOT + ".async_writes");

        String brokers = string(KAFKA + ".brokers");
        checkBrokers(brokers);
        String topicPrefix = string(KAFKA + ".topic_prefix");
        if (topicPrefix != null && !topicPrefix.matches("[a-zA-Z0-9._-]+")) {
            error(
                    KAFKA + ".topic_prefix",
                    quote(topicPrefix),
                    "must be non-empty and use only letters, digits, '.', '_' and '-' (Kafka topic names)");
        }
        String compression = oneOf(KAFKA + ".compression_type", COMPRESSION, s -> s.toLowerCase(Locale.ROOT));
        int batchSize = integer(KAFKA + ".batch_size", 1, 1_000_000);
        int lingerMs = integer(KAFKA + ".linger_ms", 0, 3_600_000);
        int requestTimeoutMs = integer(KAFKA + ".request_timeout_ms", 1, 3_600_000);

        Optional<ForwarderConfig.Sasl> sasl = Optional.empty();
        if (config.hasPath(KAFKA + ".sasl")) {
            String mechanism = oneOf(KAFKA + ".sasl.mechanism", SASL_MECHANISMS, s -> s.toUpperCase(Locale.ROOT));
            String username = requiredString(KAFKA + ".sasl.username");
            String password = requiredSecret(KAFKA + ".sasl.password");
            sasl = Optional.of(new ForwarderConfig.Sasl(mechanism, username, password));
        }
        Optional<ForwarderConfig.Tls> tls = config.hasPath(KAFKA + ".tls") ? Optional.of(tls()) : Optional.empty();
        String protocol = string(KAFKA + ".security_protocol");
        if (protocol == null || protocol.isBlank()) {
            // Credentials never go out in clear text unless asked for: sasl alone means SASL over TLS, with the
            // JVM's default trust store when there is no tls block (what managed Kafka services expect).
            protocol = sasl.isPresent() ? "SASL_SSL" : (tls.isPresent() ? "SSL" : "PLAINTEXT");
        } else {
            protocol = protocol.toUpperCase(Locale.ROOT);
            if (!SECURITY_PROTOCOLS.contains(protocol)) {
                error(KAFKA + ".security_protocol", quote(protocol), "must be one of " + sorted(SECURITY_PROTOCOLS));
            } else if (protocol.startsWith("SASL") && sasl.isEmpty()) {
                error(KAFKA + ".security_protocol", quote(protocol), "needs " + KAFKA + ".sasl to be set");
            } else if (!protocol.startsWith("SASL") && sasl.isPresent()) {
                error(
                        KAFKA + ".security_protocol",
                        quote(protocol),
                        "cannot carry " + KAFKA + ".sasl; use SASL_" + (protocol.equals("SSL") ? "SSL" : "PLAINTEXT"));
            } else if (!protocol.endsWith("SSL") && tls.isPresent()) {
                error(
                        KAFKA + ".security_protocol",
                        quote(protocol),
                        "does not use " + KAFKA + ".tls; use " + (protocol.startsWith("SASL") ? "SASL_SSL" : "SSL"));
            }
        }

        ForwarderConfig.Startup startup = new ForwarderConfig.Startup(
                bool(KAFKA + ".startup.require_connection"), integer(KAFKA + ".startup.timeout_ms", 1, 3_600_000));
        ForwarderConfig.Topics topics = new ForwarderConfig.Topics(
                bool(KAFKA + ".topics.create"),
                integer(KAFKA + ".topics.partitions", 1, 100_000),
                integer(KAFKA + ".topics.replication_factor", -1, 32767));
        if (topics.replicationFactor() == 0) {
            error(KAFKA + ".topics.replication_factor", "0", "must be -1 (broker default) or at least 1");
        }

        String dir = string(KAFKA + ".spool.dir");
        if (dir != null && dir.isBlank()) {
            error(KAFKA + ".spool.dir", quote(dir), "must be a directory path");
        }
        long maxBytes = bytes(KAFKA + ".spool.max_bytes", 16L << 20);
        ForwarderConfig.Spool spool = new ForwarderConfig.Spool(
                dir == null ? null : Path.of(dir),
                maxBytes,
                enumValue(KAFKA + ".spool.on_full", ForwarderConfig.OnFull.class),
                integer(KAFKA + ".spool.block_timeout_ms", 0, 3_600_000),
                enumValue(KAFKA + ".spool.sync", ForwarderConfig.SyncPolicy.class),
                integer(KAFKA + ".spool.sync_interval_ms", 1, 3_600_000),
                duration(KAFKA + ".spool.retain_forwarded"),
                enumValue(KAFKA + ".spool.roll_cycle", ForwarderConfig.RollCycle.class),
                integer(KAFKA + ".spool.checkpoint_interval_ms", 1, 3_600_000),
                integer(KAFKA + ".spool.drain_timeout_ms", 0, 3_600_000),
                Optional.ofNullable(file(KAFKA + ".spool.encryption.key_file")));

        if (spool.onFull() == ForwarderConfig.OnFull.BLOCK && spool.blockTimeoutMs() == 0) {
            error(
                    KAFKA + ".spool.on_full",
                    "\"block\"",
                    "needs " + KAFKA + ".spool.block_timeout_ms above 0:" + " publish never blocks without a bound");
        }

        Map<String, String> producer = producerProperties();

        ForwarderConfig.Kafka kafka = new ForwarderConfig.Kafka(
                bool(KAFKA + ".enabled"),
                brokers,
                topicPrefix,
                compression,
                batchSize,
                lingerMs,
                requestTimeoutMs,
                sasl,
                tls,
                protocol,
                startup,
                topics,
                spool,
                producer,
                enumValue(KAFKA + ".delivery", ForwarderConfig.Delivery.class));
        ForwarderConfig.Http http = new ForwarderConfig.Http(
                bool("forwarder.http.enabled"),
                string("forwarder.http.host"),
                integer("forwarder.http.port", 0, 65535),
                optionalSecret("forwarder.http.token"),
                bytes("forwarder.http.max_body_bytes", 1024),
                bool("forwarder.http.allow_unauthenticated"),
                integer("forwarder.http.max_concurrent", 1, 10_000));
        if (http.enabled()
                && http.host() != null
                && !isLoopback(http.host())
                && (http.token() == null || http.token().isEmpty())
                && !http.allowUnauthenticated()) {
            error(
                    "forwarder.http.host",
                    quote(http.host()),
                    "is not a loopback address, and forwarder.http.token"
                            + " is empty: anyone who reaches the port could write records. Set forwarder.http.token, or"
                            + " forwarder.http.allow_unauthenticated = true to serve it open on purpose");
        }
        return new ForwarderConfig(enabled, asyncWrites, kafka, http);
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
            return java.net.InetAddress.getByName(h).isLoopbackAddress(); // a literal: parsed, not resolved
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private ForwarderConfig.Tls tls() {
        String base = KAFKA + ".tls.";
        Path ca = file(base + "ca_file");
        Path cert = file(base + "cert_file");
        Path key = file(base + "key_file");
        Path truststore = file(base + "truststore_file");
        Path keystore = file(base + "keystore_file");
        if (ca != null && truststore != null) {
            errors.add(base + "ca_file and " + base + "truststore_file: set one of them, not both");
        }
        if ((cert == null) != (key == null)) {
            errors.add(base + "cert_file and " + base + "key_file: a client certificate needs both");
        }
        if (cert != null && keystore != null) {
            errors.add(base + "cert_file and " + base + "keystore_file: set one of them, not both");
        }
        return new ForwarderConfig.Tls(
                ca,
                cert,
                key,
                optionalSecret(base + "key_password"),
                truststore,
                optionalSecret(base + "truststore_password"),
                storeType(base + "truststore_type"),
                keystore,
                optionalSecret(base + "keystore_password"),
                storeType(base + "keystore_type"),
                !config.hasPath(base + "verify_hostname") || bool(base + "verify_hostname"));
    }

    private Path file(String path) {
        if (!config.hasPath(path)) {
            return null;
        }
        String value = string(path);
        if (value == null) {
            return null;
        }
        Path file = Path.of(value);
        if (!java.nio.file.Files.isReadable(file)) {
            error(path, quote(value), "must be a readable file");
        }
        return file;
    }

    private String optionalSecret(String path) {
        if (!config.hasPath(path)) {
            return null;
        }
        try {
            return config.getString(path);
        } catch (ConfigException e) {
            errors.add(path + ": must be a string (value not shown)");
            return null;
        }
    }

    private String storeType(String path) {
        if (!config.hasPath(path)) {
            return "PKCS12";
        }
        String value = string(path);
        if (value != null && !Set.of("PKCS12", "JKS", "PEM").contains(value.toUpperCase(Locale.ROOT))) {
            error(path, quote(value), "must be one of JKS|PEM|PKCS12");
        }
        return value == null ? "PKCS12" : value.toUpperCase(Locale.ROOT);
    }

    private void checkUnknownKafkaKeys(Config user) {
        if (!user.hasPath(KAFKA)) {
            return;
        }
        ConfigValue value = user.getValue(KAFKA);
        if (value.valueType() != ConfigValueType.OBJECT) {
            error(KAFKA, value.render(), "must be a table of settings");
            return;
        }
        unknownKeys(user.getObject(KAFKA), KAFKA, KAFKA_KEYS);
        for (Map.Entry<String, Set<String>> nested : NESTED_KEYS.entrySet()) {
            ConfigValue table = user.getObject(KAFKA).get(nested.getKey());
            if (table instanceof com.typesafe.config.ConfigObject object) {
                unknownKeys(object, KAFKA + "." + nested.getKey(), nested.getValue());
            }
        }
        if (user.hasPath(KAFKA + ".spool.encryption")
                && user.getValue(KAFKA + ".spool.encryption") instanceof com.typesafe.config.ConfigObject encryption) {
            unknownKeys(encryption, KAFKA + ".spool.encryption", ENCRYPTION_KEYS);
        }
    }

    private void unknownKeys(com.typesafe.config.ConfigObject object, String prefix, Set<String> known) {
        for (String key : new TreeSet<>(object.keySet())) {
            if (!known.contains(key)) {
                String nearest = nearest(key, known);
                errors.add(prefix + "." + key + ": unknown key"
                        + (nearest == null ? "" : " (did you mean " + nearest + "?)") + "; known keys: "
                        + sorted(known));
            }
        }
    }

    private void checkBrokers(String brokers) {
        if (brokers == null) {
            return;
        }
        if (brokers.isBlank()) {
            error(KAFKA + ".brokers", quote(brokers), "must list at least one host:port");
            return;
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
                error(
                        KAFKA + ".brokers",
                        quote(brokers),
                        "each entry must be host:port with a port of 1-65535;" + " \"" + b + "\" is not");
            }
        }
    }

    private Map<String, String> producerProperties() {
        Map<String, String> result = new LinkedHashMap<>();
        String path = KAFKA + ".producer";
        if (!config.hasPath(path)) {
            return result;
        }
        // Keys with dots ("client.id") are nested objects to Typesafe Config: flatten them back.
        for (Map.Entry<String, ConfigValue> entry : config.getConfig(path).entrySet()) {
            String key = String.join(".", com.typesafe.config.ConfigUtil.splitPath(entry.getKey()));
            if (PROTECTED_PRODUCER_KEYS.contains(key)) {
                error(
                        path + "." + key,
                        entry.getValue().render(),
                        "is set by the forwarder (acks=all, idempotence"
                                + " on, byte-array serialisers, brokers from " + KAFKA + ".brokers) and cannot be"
                                + " overridden");
                continue;
            }
            result.put(key, String.valueOf(entry.getValue().unwrapped()));
        }
        return Map.copyOf(result);
    }

    // ---- typed readers: each records an error and returns a placeholder instead of throwing ----

    private boolean bool(String path) {
        try {
            return config.getBoolean(path);
        } catch (ConfigException.WrongType e) {
            error(path, render(path), "must be true or false");
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        }
        return false;
    }

    private String string(String path) {
        try {
            ConfigValue value = config.getValue(path);
            if (value.valueType() == ConfigValueType.OBJECT || value.valueType() == ConfigValueType.LIST) {
                error(path, value.render(), "must be a string");
                return null;
            }
            return config.getString(path);
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a string");
        }
        return null;
    }

    private String requiredString(String path) {
        if (!config.hasPath(path)) {
            errors.add(path + ": missing (required when " + path.substring(0, path.lastIndexOf('.')) + " is set)");
            return null;
        }
        String value = string(path);
        if (value != null && value.isEmpty()) {
            error(path, "\"\"", "must not be empty");
        }
        return value;
    }

    /** Like requiredString, but the value never appears in an error. */
    private String requiredSecret(String path) {
        if (!config.hasPath(path)) {
            errors.add(path + ": missing (required when " + path.substring(0, path.lastIndexOf('.')) + " is set)");
            return null;
        }
        try {
            String value = config.getString(path);
            if (value.isEmpty()) {
                errors.add(path + ": must not be empty");
            }
            return value;
        } catch (ConfigException e) {
            errors.add(path + ": must be a string (value not shown)");
            return null;
        }
    }

    private int integer(String path, int min, int max) {
        try {
            ConfigValue value = config.getValue(path);
            if (value.valueType() != ConfigValueType.NUMBER) {
                error(path, value.render(), "must be an integer from " + min + " to " + max);
                return min;
            }
            Number number = (Number) value.unwrapped();
            if (number.doubleValue() != Math.rint(number.doubleValue())) {
                error(path, value.render(), "must be an integer from " + min + " to " + max);
                return min;
            }
            long v = number.longValue();
            if (v < min) {
                error(path, Long.toString(v), "must be at least " + min);
                return min;
            }
            if (v > max) {
                error(path, Long.toString(v), "must be at most " + max);
                return max;
            }
            return (int) v;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
            return min;
        }
    }

    private long bytes(String path, long min) {
        try {
            long v = config.getBytes(path);
            if (v < min) {
                error(
                        path,
                        render(path),
                        "must be at least " + min + " bytes" + (min >= 1 << 20 ? " (" + (min >> 20) + " MiB)" : ""));
            }
            return v;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a size such as 1GiB, 512MiB or a number of bytes");
        }
        return min;
    }

    private Duration duration(String path) {
        try {
            Duration d = config.getDuration(path);
            if (d.isNegative()) {
                error(path, render(path), "must not be negative");
            }
            return d;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a duration such as 0s, 30m, 24h or 7d");
        }
        return Duration.ZERO;
    }

    private String oneOf(String path, Set<String> allowed, Function<String, String> normalise) {
        String raw = string(path);
        if (raw == null) {
            return null;
        }
        String value = normalise.apply(raw);
        if (!allowed.contains(value)) {
            error(path, quote(raw), "must be one of " + sorted(allowed));
        }
        return value;
    }

    private <E extends Enum<E>> E enumValue(String path, Class<E> type) {
        String raw = string(path);
        if (raw == null) {
            return type.getEnumConstants()[0];
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(raw)) {
                return constant;
            }
        }
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            names.add(constant.name().toLowerCase(Locale.ROOT));
        }
        error(path, quote(raw), "must be one of " + String.join("|", names));
        return type.getEnumConstants()[0];
    }

    private String render(String path) {
        try {
            return config.getValue(path).render();
        } catch (ConfigException e) {
            return "?";
        }
    }

    private void error(String path, String value, String allowed) {
        errors.add(path + ": invalid value " + value + ": " + allowed);
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }

    private static String sorted(Set<String> values) {
        return String.join("|", new TreeSet<>(values));
    }

    /** The known key closest to {@code key} by edit distance, if it is close enough to be a typo. */
    static String nearest(String key, Set<String> known) {
        return known.stream()
                .min(Comparator.comparingInt((String k) -> editDistance(key, k)).thenComparing(k -> k))
                .filter(k -> editDistance(key, k) <= Math.max(2, k.length() / 3))
                .orElse(null);
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
