package dev.forwarder.internal.config;

import dev.forwarder.ForwarderConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Every configuration key, defined once (Kafka's {@code ConfigDef} habit): its full path, its type, what
 * values it allows, whether it is a secret. Reading ({@link ConfigReader}), the check for unknown keys under
 * {@code gateway.observability.kafka} and the typo suggestions ({@link ConfigParser}) all come from this
 * table, and a test holds it against {@code reference.conf} and the README, so the three cannot drift.
 */
final class ConfigKeys {

    static final String ROOT = "gateway.observability";
    static final String KAFKA = ROOT + ".kafka";
    static final String HTTP = "forwarder.http";
    static final String SCHEMA = "forwarder.schema";
    static final String TRACING = "forwarder.tracing";

    /** What a key holds, and so how it is read and checked. */
    enum Type {
        BOOLEAN,
        STRING,
        /** An integer within {@link Key#min()} and {@link Key#max()}. */
        INTEGER,
        /** A size ({@code 1GiB}, {@code 512MiB} or bytes) of at least {@link Key#min()}. */
        BYTES,
        /** A duration ({@code 30m}, {@code 7d}), not negative. */
        DURATION,
        /** One of {@link Key#choices()}. */
        CHOICE,
        /** One of {@link Key#enumType()}'s constants, in lower case. */
        ENUM,
        /** A path of a readable file. */
        FILE,
        /** A string never shown in an error. */
        SECRET,
        /** A table of the keys below it. */
        TABLE,
        /** A table passed through as it is (the producer's own properties). */
        PASSTHROUGH
    }

    /**
     * One key.
     *
     * @param required for keys of an optional table (sasl): must be there when the table is
     */
    record Key(
            String path,
            Type type,
            long min,
            long max,
            Set<String> choices,
            Class<? extends Enum<?>> enumType,
            boolean required) {

        /** The table that holds the key. */
        String parent() {
            return path.substring(0, path.lastIndexOf('.'));
        }

        String name() {
            return path.substring(path.lastIndexOf('.') + 1);
        }

        /** The enum constants' names in lower case, as configuration spells them. */
        List<String> enumNames() {
            List<String> names = new ArrayList<>();
            for (Enum<?> constant : enumType.getEnumConstants()) {
                names.add(constant.name().toLowerCase(Locale.ROOT));
            }
            return names;
        }
    }

    private static final List<Key> ALL = new ArrayList<>();

    // gateway.observability
    static final Key ENABLED = define(ROOT + ".enabled", Type.BOOLEAN);
    static final Key ASYNC_WRITES = define(ROOT + ".async_writes", Type.BOOLEAN);

    // gateway.observability.kafka
    static final Key KAFKA_TABLE = define(KAFKA, Type.TABLE);
    static final Key KAFKA_ENABLED = define(KAFKA + ".enabled", Type.BOOLEAN);
    static final Key BROKERS = define(KAFKA + ".brokers", Type.STRING);
    static final Key TOPIC_PREFIX = define(KAFKA + ".topic_prefix", Type.STRING);
    static final Key COMPRESSION = choice(KAFKA + ".compression_type", "none", "gzip", "snappy", "lz4", "zstd");
    static final Key BATCH_SIZE = integer(KAFKA + ".batch_size", 1, 1_000_000);
    static final Key LINGER_MS = integer(KAFKA + ".linger_ms", 0, 3_600_000);
    static final Key REQUEST_TIMEOUT_MS = integer(KAFKA + ".request_timeout_ms", 1, 3_600_000);
    static final Key DELIVERY = enumKey(KAFKA + ".delivery", ForwarderConfig.Delivery.class);
    static final Key SECURITY_PROTOCOL =
            choice(KAFKA + ".security_protocol", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    static final Key PRODUCER = define(KAFKA + ".producer", Type.PASSTHROUGH);

    static final Key SASL = define(KAFKA + ".sasl", Type.TABLE);
    static final Key SASL_MECHANISM = choice(KAFKA + ".sasl.mechanism", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
    static final Key SASL_USERNAME = add(new Key(KAFKA + ".sasl.username", Type.STRING, 0, 0, Set.of(), null, true));
    static final Key SASL_PASSWORD = add(new Key(KAFKA + ".sasl.password", Type.SECRET, 0, 0, Set.of(), null, true));

    static final Key TLS = define(KAFKA + ".tls", Type.TABLE);
    static final Key TLS_CA_FILE = define(KAFKA + ".tls.ca_file", Type.FILE);
    static final Key TLS_CERT_FILE = define(KAFKA + ".tls.cert_file", Type.FILE);
    static final Key TLS_KEY_FILE = define(KAFKA + ".tls.key_file", Type.FILE);
    static final Key TLS_KEY_PASSWORD = define(KAFKA + ".tls.key_password", Type.SECRET);
    static final Key TLS_TRUSTSTORE_FILE = define(KAFKA + ".tls.truststore_file", Type.FILE);
    static final Key TLS_TRUSTSTORE_PASSWORD = define(KAFKA + ".tls.truststore_password", Type.SECRET);
    static final Key TLS_TRUSTSTORE_TYPE = choice(KAFKA + ".tls.truststore_type", "JKS", "PEM", "PKCS12");
    static final Key TLS_KEYSTORE_FILE = define(KAFKA + ".tls.keystore_file", Type.FILE);
    static final Key TLS_KEYSTORE_PASSWORD = define(KAFKA + ".tls.keystore_password", Type.SECRET);
    static final Key TLS_KEYSTORE_TYPE = choice(KAFKA + ".tls.keystore_type", "JKS", "PEM", "PKCS12");
    static final Key TLS_VERIFY_HOSTNAME = define(KAFKA + ".tls.verify_hostname", Type.BOOLEAN);

    static final Key STARTUP = define(KAFKA + ".startup", Type.TABLE);
    static final Key REQUIRE_CONNECTION = define(KAFKA + ".startup.require_connection", Type.BOOLEAN);
    static final Key STARTUP_TIMEOUT_MS = integer(KAFKA + ".startup.timeout_ms", 1, 3_600_000);

    static final Key TOPICS = define(KAFKA + ".topics", Type.TABLE);
    static final Key TOPICS_CREATE = define(KAFKA + ".topics.create", Type.BOOLEAN);
    static final Key TOPICS_PARTITIONS = integer(KAFKA + ".topics.partitions", 1, 100_000);
    static final Key TOPICS_REPLICATION_FACTOR = integer(KAFKA + ".topics.replication_factor", -1, 32767);

    static final Key SPOOL = define(KAFKA + ".spool", Type.TABLE);
    static final Key SPOOL_DIR = define(KAFKA + ".spool.dir", Type.STRING);
    static final Key SPOOL_MAX_BYTES = bytes(KAFKA + ".spool.max_bytes", 16L << 20);
    static final Key SPOOL_ON_FULL = enumKey(KAFKA + ".spool.on_full", ForwarderConfig.OnFull.class);
    static final Key SPOOL_BLOCK_TIMEOUT_MS = integer(KAFKA + ".spool.block_timeout_ms", 0, 3_600_000);
    static final Key SPOOL_SYNC = enumKey(KAFKA + ".spool.sync", ForwarderConfig.SyncPolicy.class);
    static final Key SPOOL_SYNC_INTERVAL_MS = integer(KAFKA + ".spool.sync_interval_ms", 1, 3_600_000);
    static final Key SPOOL_RETAIN_FORWARDED = define(KAFKA + ".spool.retain_forwarded", Type.DURATION);
    static final Key SPOOL_ROLL_CYCLE = enumKey(KAFKA + ".spool.roll_cycle", ForwarderConfig.RollCycle.class);
    static final Key SPOOL_CHECKPOINT_INTERVAL_MS = integer(KAFKA + ".spool.checkpoint_interval_ms", 1, 3_600_000);
    static final Key SPOOL_DRAIN_TIMEOUT_MS = integer(KAFKA + ".spool.drain_timeout_ms", 0, 3_600_000);
    static final Key SPOOL_ENCRYPTION = define(KAFKA + ".spool.encryption", Type.TABLE);
    static final Key SPOOL_KEY_FILE = define(KAFKA + ".spool.encryption.key_file", Type.FILE);
    static final Key SPOOL_DEAD_LETTER = define(KAFKA + ".spool.dead_letter", Type.TABLE);
    static final Key DEAD_LETTER_MAX_BYTES = bytes(KAFKA + ".spool.dead_letter.max_bytes", 4L << 20);
    static final Key DEAD_LETTER_RETAIN = define(KAFKA + ".spool.dead_letter.retain", Type.DURATION);

    // forwarder.http (the standalone process)
    static final Key HTTP_ENABLED = define(HTTP + ".enabled", Type.BOOLEAN);
    static final Key HTTP_HOST = define(HTTP + ".host", Type.STRING);
    static final Key HTTP_PORT = integer(HTTP + ".port", 0, 65535);
    static final Key HTTP_TOKEN = define(HTTP + ".token", Type.SECRET);
    static final Key HTTP_MAX_BODY_BYTES = bytes(HTTP + ".max_body_bytes", 1024);
    static final Key HTTP_ALLOW_UNAUTHENTICATED = define(HTTP + ".allow_unauthenticated", Type.BOOLEAN);
    static final Key HTTP_MAX_CONCURRENT = integer(HTTP + ".max_concurrent", 1, 10_000);
    static final Key HTTP_ALLOW_PLAINTEXT = define(HTTP + ".allow_plaintext", Type.BOOLEAN);
    static final Key HTTP_TLS = define(HTTP + ".tls", Type.TABLE);
    static final Key HTTP_TLS_CERT_FILE = define(HTTP + ".tls.cert_file", Type.FILE);
    static final Key HTTP_TLS_KEY_FILE = define(HTTP + ".tls.key_file", Type.FILE);
    static final Key HTTP_TLS_KEYSTORE_FILE = define(HTTP + ".tls.keystore_file", Type.FILE);
    static final Key HTTP_TLS_KEYSTORE_PASSWORD = define(HTTP + ".tls.keystore_password", Type.SECRET);

    // forwarder.schema (the checks of records handed in as JSON)
    static final Key SCHEMA_UNKNOWN_FIELDS = enumKey(SCHEMA + ".unknown_fields", ForwarderConfig.UnknownFields.class);

    // forwarder.tracing (the trace context of the publishing thread)
    static final Key TRACING_PROPAGATE = define(TRACING + ".propagate", Type.BOOLEAN);

    private ConfigKeys() {}

    /** Every key, in the order defined. */
    static List<Key> all() {
        return Collections.unmodifiableList(ALL);
    }

    /** The names of the keys a table holds (the known keys an unknown one is compared with). */
    static Set<String> namesIn(String table) {
        Set<String> names = new LinkedHashSet<>();
        for (Key key : ALL) {
            if (key.parent().equals(table)) {
                names.add(key.name());
            }
        }
        return names;
    }

    /** The key at {@code path}, or null if there is none. */
    static Key at(String path) {
        for (Key key : ALL) {
            if (key.path().equals(path)) {
                return key;
            }
        }
        return null;
    }

    private static Key define(String path, Type type) {
        return add(new Key(path, type, 0, 0, Set.of(), null, false));
    }

    private static Key integer(String path, long min, long max) {
        return add(new Key(path, Type.INTEGER, min, max, Set.of(), null, false));
    }

    private static Key bytes(String path, long min) {
        return add(new Key(path, Type.BYTES, min, Long.MAX_VALUE, Set.of(), null, false));
    }

    private static Key choice(String path, String... choices) {
        return add(new Key(path, Type.CHOICE, 0, 0, Set.of(choices), null, false));
    }

    private static Key enumKey(String path, Class<? extends Enum<?>> type) {
        return add(new Key(path, Type.ENUM, 0, 0, Set.of(), type, false));
    }

    private static Key add(Key key) {
        ALL.add(key);
        return key;
    }
}
