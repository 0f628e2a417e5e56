package dev.forwarder;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.forwarder.internal.config.ConfigFiles;
import dev.forwarder.internal.config.ConfigParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The forwarder's whole configuration: one immutable value, read and checked once, before anything starts.
 *
 * <p>The keys are those of TensorZero's {@code [gateway.observability.kafka]} block plus this project's
 * extensions ({@code security_protocol}, {@code startup}, {@code topics}, {@code spool}, {@code producer});
 * every default is in forwarder-core's {@code reference.conf}. An invalid file is refused as a whole with a
 * {@link ForwarderConfigException} that lists every error, each naming the full key, the bad value and
 * what is allowed. Secrets are masked in {@link #toString()}.
 *
 * @param enabled     {@code gateway.observability.enabled}: false writes nothing anywhere
 * @param asyncWrites {@code gateway.observability.async_writes}: false makes publish wait for Kafka
 * @param kafka       {@code gateway.observability.kafka}
 * @param http        {@code forwarder.http}, used by the standalone process
 * @param unknownFields {@code forwarder.schema.unknown_fields}: what the full check of a record
 *                      ({@code Forwarder.check}, HTTP ingest, typed publish) does with fields that are not
 *                      columns of its TensorZero table
 * @param tracing       {@code forwarder.tracing}
 */
public record ForwarderConfig(
        boolean enabled, boolean asyncWrites, Kafka kafka, Http http, UnknownFields unknownFields, Tracing tracing) {

    /** As before {@code forwarder.schema.unknown_fields} existed: unknown fields refused. */
    public ForwarderConfig(boolean enabled, boolean asyncWrites, Kafka kafka, Http http) {
        this(enabled, asyncWrites, kafka, http, UnknownFields.REFUSE);
    }

    /** As before {@code forwarder.tracing} existed: trace context propagated. */
    public ForwarderConfig(boolean enabled, boolean asyncWrites, Kafka kafka, Http http, UnknownFields unknownFields) {
        this(enabled, asyncWrites, kafka, http, unknownFields, Tracing.DEFAULTS);
    }

    /**
     * {@code forwarder.tracing}.
     *
     * @param propagate {@code propagate}: with OpenTelemetry's API on the class path and a valid current span,
     *                  {@code publish} takes the thread's W3C trace context into the record and the forwarder
     *                  writes it as the message's {@code traceparent}/{@code tracestate} headers
     */
    public record Tracing(boolean propagate) {
        public static final Tracing DEFAULTS = new Tracing(true);
    }

    /**
     * {@code forwarder.schema.unknown_fields}: {@code refuse} (the default) refuses a record with a field that
     * is not a column of its TensorZero table, naming it, as the gateway's own insert
     * ({@code input_format_skip_unknown_fields = 0}) would; {@code carry} passes such fields through, for
     * consumers that skip them.
     */
    public enum UnknownFields {
        REFUSE,
        CARRY
    }

    /**
     * Reads a file over the defaults: TensorZero's TOML ({@code .toml}, e.g. {@code tensorzero.toml} as it
     * is: only {@code [gateway.observability]} is read), JSON ({@code .json}) or HOCON (anything else).
     */
    public static ForwarderConfig load(Path file) {
        return from(readFile(file));
    }

    /**
     * The tree of a configuration file as written (no defaults, not checked), read as {@link #load} reads it:
     * for a tool that changes a key before {@link #from}.
     */
    public static Config readFile(Path file) {
        return ConfigFiles.read(file);
    }

    /** Reads HOCON text over the defaults, e.g. {@code gateway.observability.kafka.brokers = "h:9092"}. */
    public static ForwarderConfig parse(String hocon) {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon);
        } catch (ConfigException e) {
            throw new ForwarderConfigException(List.of(e.getMessage()));
        }
        return from(parsed);
    }

    /** The defaults alone. */
    public static ForwarderConfig defaults() {
        return parse("");
    }

    /**
     * Checks an already parsed tree, with system properties over it and the defaults under it, as
     * Typesafe Config users expect ({@code -Dgateway.observability.kafka.brokers=...} wins).
     */
    public static ForwarderConfig from(Config config) {
        Config full = ConfigFactory.defaultOverrides()
                .withFallback(config)
                .withFallback(ConfigFactory.defaultReference(ForwarderConfig.class.getClassLoader()))
                .resolve();
        return ConfigParser.parse(config, full);
    }

    /** {@code gateway.observability.kafka}. */
    public record Kafka(
            boolean enabled,
            String brokers,
            String topicPrefix,
            String compressionType,
            int batchSize,
            int lingerMs,
            int requestTimeoutMs,
            Optional<Sasl> sasl,
            Optional<Tls> tls,
            String securityProtocol,
            Startup startup,
            Topics topics,
            Spool spool,
            Map<String, String> producer,
            Delivery delivery) {

        /** The topic of a data type: {@code {topic_prefix}_{data_type}}. */
        public String topic(DataType type) {
            return type.topic(topicPrefix);
        }

        /**
         * With {@code delivery = exactly_once}, the compacted topic that holds each spool's committed position
         * (key: the spool's source id): {@code {topic_prefix}_forwarder_positions}.
         */
        public String positionsTopic() {
            return topicPrefix + "_forwarder_positions";
        }

        /**
         * What an operator must be told about this connection at start: with {@code SASL_PLAINTEXT} (only ever
         * chosen explicitly), the password and every record cross the network unencrypted.
         */
        public Optional<String> securityWarning() {
            if (!"SASL_PLAINTEXT".equals(securityProtocol)) {
                return Optional.empty();
            }
            return Optional.of("gateway.observability.kafka.security_protocol = \"SASL_PLAINTEXT\": the SASL"
                    + " credentials and every record (prompts and answers) travel to Kafka at " + brokers
                    + " unencrypted; use SASL_SSL (the default with sasl) unless this network is trusted");
        }
    }

    /** {@code gateway.observability.kafka.sasl}; the password never appears in {@link #toString()}. */
    public record Sasl(String mechanism, String username, String password) {
        @Override
        public String toString() {
            return "Sasl[mechanism=" + mechanism + ", username=" + username + ", password=****]";
        }
    }

    /**
     * {@code gateway.observability.kafka.tls}: a CA (PEM file, or a trust store) to verify the brokers, and
     * optionally a client certificate (PEM certificate and key files, or a key store). Passwords never
     * appear in {@link #toString()}.
     */
    public record Tls(
            Path caFile,
            Path certFile,
            Path keyFile,
            String keyPassword,
            Path truststoreFile,
            String truststorePassword,
            String truststoreType,
            Path keystoreFile,
            String keystorePassword,
            String keystoreType,
            boolean verifyHostname) {
        @Override
        public String toString() {
            return "Tls[caFile=" + caFile + ", certFile=" + certFile + ", keyFile=" + keyFile
                    + ", keyPassword=" + mask(keyPassword) + ", truststoreFile=" + truststoreFile
                    + ", truststorePassword=" + mask(truststorePassword) + ", truststoreType=" + truststoreType
                    + ", keystoreFile=" + keystoreFile + ", keystorePassword=" + mask(keystorePassword)
                    + ", keystoreType=" + keystoreType + ", verifyHostname=" + verifyHostname + "]";
        }

        private static String mask(String secret) {
            return secret == null ? "null" : "****";
        }
    }

    /** {@code gateway.observability.kafka.startup}. */
    public record Startup(boolean requireConnection, int timeoutMs) {}

    /** {@code gateway.observability.kafka.topics}; replication factor -1 means the broker's default. */
    public record Topics(boolean create, int partitions, int replicationFactor) {}

    /**
     * {@code gateway.observability.kafka.spool}.
     *
     * @param deadLetters {@code spool.dead_letter}: the dead-letter spool's own bound and retention
     */
    public record Spool(
            Path dir,
            long maxBytes,
            OnFull onFull,
            int blockTimeoutMs,
            SyncPolicy sync,
            int syncIntervalMs,
            Duration retainForwarded,
            RollCycle rollCycle,
            int checkpointIntervalMs,
            int drainTimeoutMs,
            Optional<Path> encryptionKeyFile,
            DeadLetters deadLetters) {

        /** As before {@code spool.dead_letter} existed: its defaults. */
        public Spool(
                Path dir,
                long maxBytes,
                OnFull onFull,
                int blockTimeoutMs,
                SyncPolicy sync,
                int syncIntervalMs,
                Duration retainForwarded,
                RollCycle rollCycle,
                int checkpointIntervalMs,
                int drainTimeoutMs,
                Optional<Path> encryptionKeyFile) {
            this(
                    dir,
                    maxBytes,
                    onFull,
                    blockTimeoutMs,
                    sync,
                    syncIntervalMs,
                    retainForwarded,
                    rollCycle,
                    checkpointIntervalMs,
                    drainTimeoutMs,
                    encryptionKeyFile,
                    DeadLetters.DEFAULTS);
        }
    }

    /**
     * {@code gateway.observability.kafka.spool.dead_letter}: records Kafka refused for good are kept apart
     * from the spool, under a bound of their own ({@code max_bytes}, beside the spool's), and deleted once last
     * written longer ago than {@code retain} (counted in {@code forwarder_spool_dead_letters_expired}).
     */
    public record DeadLetters(long maxBytes, Duration retain) {
        public static final DeadLetters DEFAULTS = new DeadLetters(64L << 20, Duration.ofDays(7));
    }

    /** How much time one roll file of the spool covers; forwarded files are deleted whole. */
    public enum RollCycle {
        HOURLY,
        DAILY,
        FIVE_MINUTELY
    }

    /**
     * {@code gateway.observability.kafka.delivery}: {@code at_least_once} (records acknowledged one by one; a
     * crash or a retry can duplicate some) or {@code exactly_once} (records and the spool position committed
     * together in Kafka transactions; {@code read_committed} consumers see each record once).
     */
    public enum Delivery {
        AT_LEAST_ONCE,
        EXACTLY_ONCE
    }

    /** What publish does when the spool is at {@code max_bytes}: refuse the record, make room, or wait. */
    public enum OnFull {
        DROP_NEWEST,
        DROP_OLDEST,
        BLOCK
    }

    /** When spooled records are forced to the storage device. */
    public enum SyncPolicy {
        NONE,
        INTERVAL,
        EVERY_RECORD
    }

    /** {@code forwarder.http}; the token never appears in {@link #toString()}. */
    /**
     * The standalone process's HTTP server.
     *
     * @param tls            the server's certificate, or null for plain HTTP
     * @param allowPlaintext serve plain HTTP on a host other than loopback, on purpose
     */
    public record Http(
            boolean enabled,
            String host,
            int port,
            String token,
            long maxBodyBytes,
            boolean allowUnauthenticated,
            int maxConcurrent,
            HttpTls tls,
            boolean allowPlaintext) {

        /** Plain HTTP (the record before TLS was added). */
        public Http(
                boolean enabled,
                String host,
                int port,
                String token,
                long maxBodyBytes,
                boolean allowUnauthenticated,
                int maxConcurrent) {
            this(enabled, host, port, token, maxBodyBytes, allowUnauthenticated, maxConcurrent, null, false);
        }

        @Override
        public String toString() {
            return "Http[enabled=" + enabled + ", host=" + host + ", port=" + port + ", token="
                    + (token == null || token.isEmpty() ? "(none)" : "****") + ", maxBodyBytes=" + maxBodyBytes
                    + ", allowUnauthenticated=" + allowUnauthenticated + ", maxConcurrent=" + maxConcurrent
                    + ", tls=" + tls + ", allowPlaintext=" + allowPlaintext + "]";
        }
    }

    /**
     * The HTTP server's certificate: a chain and its unencrypted PKCS#8 key in PEM, or a key store (PKCS12 or
     * JKS). The files are read again when they change.
     */
    public record HttpTls(Path certFile, Path keyFile, Path keystoreFile, String keystorePassword) {
        @Override
        public String toString() {
            return "HttpTls[certFile=" + certFile + ", keyFile=" + keyFile + ", keystoreFile=" + keystoreFile
                    + ", keystorePassword=" + (keystorePassword == null ? "(none)" : "****") + "]";
        }
    }
}
