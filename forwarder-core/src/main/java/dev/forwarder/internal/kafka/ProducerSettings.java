package dev.forwarder.internal.kafka;

import dev.forwarder.ForwarderConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How the configuration becomes kafka-clients properties.
 *
 * <p><b>batch_size counts messages.</b> TensorZero documents {@code batch_size} as a number of messages;
 * Kafka's {@code batch.size} is bytes per partition batch and there is no count limit. The forwarder maps
 * it twice: (1) {@code batch.size} = batch_size x 1 KiB (an inference record is about 1 KiB), within
 * 16 KiB..1 MiB, so a batch holds about batch_size typical records ({@code buffer.memory} is 64 such
 * batches, at least Kafka's 32 MiB default); (2) the forwarder never has more than
 * batch_size x 5 records sent and unacknowledged (5 = {@code max.in.flight.requests.per.connection}, the
 * most idempotence allows). (2) is the hard bound: it caps memory, and the duplicates a crash can cause.
 *
 * <p>Fixed for the delivery guarantee, not overridable: {@code acks=all}, {@code enable.idempotence=true},
 * unlimited {@code retries} (per-partition order kept by idempotence). {@code request_timeout_ms} is
 * {@code request.timeout.ms}, and also {@code max.block.ms}: how long the forwarder thread lets send() wait
 * for metadata or buffer space before it backs off and tries again.
 */
public final class ProducerSettings {

    /** Kafka's limit with idempotence on. */
    public static final int MAX_IN_FLIGHT_REQUESTS = 5;

    static final int ASSUMED_RECORD_BYTES = 1024;

    private ProducerSettings() {}

    /** Records the forwarder may have sent and not yet acknowledged. */
    public static int inFlightWindow(ForwarderConfig.Kafka kafka) {
        return kafka.batchSize() * MAX_IN_FLIGHT_REQUESTS;
    }

    /**
     * Bytes of records (payload and key) the forwarder may have sent and not yet acknowledged, or hold in one
     * open transaction: half the producer's {@code buffer.memory}, so that the records it holds for a resend
     * stay a bounded part of the heap whatever their size, and {@code send()} does not wait for buffer space
     * that the window itself took (partly filled batches take a whole {@code batch.size} each).
     */
    public static long inFlightBytes(ForwarderConfig.Kafka kafka) {
        return bufferMemory(kafka) / 2;
    }

    /** The producer's buffer.memory: as set under {@code kafka.producer}, else 64 batches, at least 32 MiB. */
    static long bufferMemory(ForwarderConfig.Kafka kafka) {
        String configured = kafka.producer().get(ProducerConfig.BUFFER_MEMORY_CONFIG);
        if (configured != null) {
            try {
                return Long.parseLong(configured.trim());
            } catch (NumberFormatException e) {
                // the producer refuses it, naming the key, when it is built
            }
        }
        return Math.max(32L << 20, 64L * batchBytes(kafka));
    }

    /** Kafka's batch.size: batch_size x 1 KiB, within 16 KiB..1 MiB. */
    public static int batchBytes(ForwarderConfig.Kafka kafka) {
        return (int) Math.min(1L << 20, Math.max(16 << 10, (long) kafka.batchSize() * ASSUMED_RECORD_BYTES));
    }

    private static final int DEFAULT_DELIVERY_TIMEOUT_MS_FLOOR = 60_000;

    /**
     * Kafka's delivery.timeout.ms: how long the producer keeps a record before it calls back with an expiry.
     * The pass-through's value if given, else 60 s: longer than an ISR shrink can hold acks=all
     * (replica.lag.time.max.ms, 30 s) plus a request time-out, and half Kafka's 2-minute default, so a
     * producer stuck in KAFKA-14359 is replaced sooner. Kafka requires at least linger.ms + request.timeout.ms.
     */
    public static long deliveryTimeoutMs(ForwarderConfig.Kafka kafka) {
        Object configured = kafka.producer().get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
        if (configured != null) {
            try {
                return Long.parseLong(configured.toString().trim());
            } catch (NumberFormatException e) {
                // The producer refuses it when it is built; the forwarder says so and retries.
            }
        }
        return Math.max(DEFAULT_DELIVERY_TIMEOUT_MS_FLOOR, (long) kafka.lingerMs() + kafka.requestTimeoutMs());
    }

    public static Map<String, Object> producer(ForwarderConfig.Kafka kafka) {
        return producer(kafka, new MessageSizes(kafka));
    }

    /** The producer, its {@code max.request.size} as large as the largest message the topics take. */
    public static Map<String, Object> producer(ForwarderConfig.Kafka kafka, MessageSizes sizes) {
        Map<String, Object> props = new HashMap<>(common(kafka));
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, sizes.maxRequestSize());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, MAX_IN_FLIGHT_REQUESTS);
        props.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, kafka.compressionType());
        props.put(ProducerConfig.LINGER_MS_CONFIG, kafka.lingerMs());
        int batchBytes = batchBytes(kafka);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, batchBytes);
        // Room for a full batch in every partition of the three topics several times over, so that a
        // broker outage fills the in-flight window before it exhausts the producer's buffer.
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32L << 20, 64L * batchBytes));
        // (kafka.producer below may set it otherwise: bufferMemory reads the same)
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, kafka.requestTimeoutMs());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, kafka.requestTimeoutMs());
        props.put(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, deliveryTimeoutMs(kafka)));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.putAll(kafka.producer());
        // After a user's pass-through, so that nothing can weaken these (the config check refuses them too).
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return props;
    }

    /**
     * {@code delivery = exactly_once}: the producer above, transactional, with a {@code transactional.id}
     * derived from the spool's source id ({@code forwarder-<source id>}): stable across restarts of the spool,
     * shared by a copy of it, so that Kafka fences the older of two forwarders on one spool's records.
     */
    /** Kafka's default transaction.timeout.ms. */
    public static final long DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

    /**
     * The producer's {@code transaction.timeout.ms}: as set under {@code kafka.producer}, else Kafka's default
     * (the configuration refuses a value that is not a number).
     */
    public static long transactionTimeoutMs(ForwarderConfig.Kafka kafka) {
        String configured = kafka.producer().get("transaction.timeout.ms");
        return configured == null ? DEFAULT_TRANSACTION_TIMEOUT_MS : Long.parseLong(configured.trim());
    }

    public static Map<String, Object> transactionalProducer(
            ForwarderConfig.Kafka kafka, UUID sourceId, MessageSizes sizes) {
        Map<String, Object> props = producer(kafka, sizes);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(sourceId));
        return props;
    }

    public static String transactionalId(UUID sourceId) {
        return "forwarder-" + sourceId;
    }

    /** A consumer that reads only committed records (the positions topic). */
    public static Map<String, Object> readCommittedConsumer(ForwarderConfig.Kafka kafka) {
        Map<String, Object> props = new HashMap<>(common(kafka));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A topic gone is told as gone, not created by the broker with its defaults (not compacted).
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, kafka.requestTimeoutMs());
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, kafka.requestTimeoutMs());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return props;
    }

    public static Map<String, Object> admin(ForwarderConfig.Kafka kafka) {
        Map<String, Object> props = new HashMap<>(common(kafka));
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, kafka.requestTimeoutMs());
        return props;
    }

    private static Map<String, Object> common(ForwarderConfig.Kafka kafka) {
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.brokers());
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, kafka.securityProtocol());
        // Come back quickly after an outage; Kafka's defaults wait up to 1 s between tries anyway.
        props.put(CommonClientConfigs.RECONNECT_BACKOFF_MS_CONFIG, 50);
        props.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        props.put(CommonClientConfigs.RETRY_BACKOFF_MS_CONFIG, 100);
        props.put(CommonClientConfigs.RETRY_BACKOFF_MAX_MS_CONFIG, 1000);
        kafka.sasl().ifPresent(sasl -> {
            props.put(SaslConfigs.SASL_MECHANISM, sasl.mechanism());
            String module = sasl.mechanism().equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            // A Password value: Kafka prints it as [hidden] wherever it logs its configuration.
            props.put(
                    SaslConfigs.SASL_JAAS_CONFIG,
                    new Password(module + " required username=\"" + jaasEscape(sasl.username()) + "\" password=\""
                            + jaasEscape(sasl.password()) + "\";"));
        });
        kafka.tls().ifPresent(tls -> tls(tls, props));
        for (String key : new String[] {"client.id", "client.dns.lookup", "connections.max.idle.ms"}) {
            if (kafka.producer().containsKey(key)) {
                props.put(key, kafka.producer().get(key));
            }
        }
        return props;
    }

    private static void tls(ForwarderConfig.Tls tls, Map<String, Object> props) {
        if (tls.caFile() != null) {
            props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
            props.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, tls.caFile().toString());
        } else if (tls.truststoreFile() != null) {
            props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, tls.truststoreType());
            props.put(
                    SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG,
                    tls.truststoreFile().toString());
            if (tls.truststorePassword() != null) {
                props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, new Password(tls.truststorePassword()));
            }
        }
        if (tls.certFile() != null) {
            // Kafka takes PEM client certificates as text: the chain and the key, read here once.
            props.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
            props.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, new Password(read(tls.certFile())));
            props.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, new Password(read(tls.keyFile())));
            if (tls.keyPassword() != null) {
                props.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, new Password(tls.keyPassword()));
            }
        } else if (tls.keystoreFile() != null) {
            props.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, tls.keystoreType());
            props.put(
                    SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, tls.keystoreFile().toString());
            if (tls.keystorePassword() != null) {
                props.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, new Password(tls.keystorePassword()));
            }
            if (tls.keyPassword() != null) {
                props.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, new Password(tls.keyPassword()));
            }
        }
        if (!tls.verifyHostname()) {
            props.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG, "");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String jaasEscape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
