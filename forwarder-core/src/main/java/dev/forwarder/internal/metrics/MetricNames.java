package dev.forwarder.internal.metrics;

import java.util.List;

/**
 * Every metric family of the forwarder, named once: its name (counters get Prometheus's {@code _total}
 * suffix in the exposition), its kind and its labels. {@link ForwarderMetrics} registers them, the Micrometer
 * binder binds them, and the tests hold the exposition and the README's "Metrics" table against this list.
 *
 * <p>The seed's families ({@link #SEED}: TensorZero's Kafka integration) keep their names; every family this
 * forwarder added is named after Prometheus's and Micrometer's conventions: one {@code forwarder_} prefix,
 * base units (seconds, bytes) in the name, counters exported with {@code _total}. README "Upgrading" lists
 * the names they had before.
 */
public final class MetricNames {

    /** One metric family as exported. */
    public record Family(String name, Kind kind, List<String> labels) {}

    public enum Kind {
        COUNTER,
        GAUGE,
        HISTOGRAM
    }

    public static final String CONNECTIONS_ESTABLISHED = "kafka_connections_established";
    public static final String CONNECTION_ERRORS = "kafka_connection_errors";
    public static final String WRITES_SUCCESS = "kafka_writes_success";
    public static final String WRITES_FAILED = "kafka_writes_failed";
    public static final String TOPIC_REFUSALS = "forwarder_kafka_topic_refusals";
    public static final String SERIALIZATION_ERRORS = "kafka_serialization_errors";
    public static final String WRITE_DURATION_MS = "kafka_write_duration_ms";
    public static final String APPENDED = "forwarder_spool_records_appended";
    public static final String IDS_NOT_V7 = "forwarder_event_ids_not_v7";
    public static final String DROPPED = "forwarder_spool_records_dropped";
    public static final String BACKLOG_RECORDS = "forwarder_spool_backlog_records";
    public static final String BACKLOG_BYTES = "forwarder_spool_backlog_bytes";
    public static final String OLDEST_AGE = "forwarder_spool_oldest_unforwarded_age_seconds";
    public static final String CHECKPOINT = "forwarder_spool_checkpoint_index";
    public static final String CORRUPT = "forwarder_spool_corrupt_records";
    public static final String DEAD_LETTERS = "forwarder_spool_dead_letters";
    public static final String LOST = "forwarder_spool_records_lost";
    public static final String DISK_BYTES = "forwarder_spool_disk_bytes";
    public static final String CAPACITY_BYTES = "forwarder_spool_capacity_bytes";
    public static final String APPEND_LATENCY_SECONDS = "forwarder_spool_append_latency_seconds";
    public static final String STATE = "forwarder_state";
    public static final String TRANSACTIONS_COMMITTED = "forwarder_kafka_transactions_committed";
    public static final String TRANSACTIONS_ABORTED = "forwarder_kafka_transactions_aborted";
    public static final String TRANSACTION_DURATION_SECONDS = "forwarder_kafka_transaction_duration_seconds";
    public static final String FORWARDER_ERRORS = "forwarder_errors";
    public static final String DEAD_LETTER_BYTES = "forwarder_spool_dead_letter_bytes";
    public static final String DEAD_LETTER_CAPACITY_BYTES = "forwarder_spool_dead_letter_capacity_bytes";
    public static final String DEAD_LETTERS_EXPIRED = "forwarder_spool_dead_letters_expired";

    /** TensorZero's names, kept as its integration documents them (milliseconds included). */
    public static final List<String> SEED = List.of(
            CONNECTIONS_ESTABLISHED,
            CONNECTION_ERRORS,
            WRITES_SUCCESS,
            WRITES_FAILED,
            SERIALIZATION_ERRORS,
            WRITE_DURATION_MS);

    private static final List<String> BY_TOPIC = List.of("topic", "data_type");

    /** Every family, in the order of the README's table. */
    public static final List<Family> FAMILIES = List.of(
            new Family(CONNECTIONS_ESTABLISHED, Kind.COUNTER, List.of()),
            new Family(CONNECTION_ERRORS, Kind.COUNTER, List.of()),
            new Family(WRITES_SUCCESS, Kind.COUNTER, BY_TOPIC),
            new Family(WRITES_FAILED, Kind.COUNTER, BY_TOPIC),
            new Family(TOPIC_REFUSALS, Kind.COUNTER, BY_TOPIC),
            new Family(SERIALIZATION_ERRORS, Kind.COUNTER, List.of()),
            new Family(WRITE_DURATION_MS, Kind.HISTOGRAM, BY_TOPIC),
            new Family(APPENDED, Kind.COUNTER, List.of()),
            new Family(IDS_NOT_V7, Kind.COUNTER, List.of()),
            new Family(DROPPED, Kind.COUNTER, List.of("reason")),
            new Family(BACKLOG_RECORDS, Kind.GAUGE, List.of()),
            new Family(BACKLOG_BYTES, Kind.GAUGE, List.of()),
            new Family(OLDEST_AGE, Kind.GAUGE, List.of()),
            new Family(CHECKPOINT, Kind.GAUGE, List.of()),
            new Family(CORRUPT, Kind.COUNTER, List.of()),
            new Family(DEAD_LETTERS, Kind.COUNTER, List.of()),
            new Family(DEAD_LETTERS_EXPIRED, Kind.COUNTER, List.of()),
            new Family(DEAD_LETTER_BYTES, Kind.GAUGE, List.of()),
            new Family(DEAD_LETTER_CAPACITY_BYTES, Kind.GAUGE, List.of()),
            new Family(LOST, Kind.COUNTER, List.of()),
            new Family(DISK_BYTES, Kind.GAUGE, List.of()),
            new Family(CAPACITY_BYTES, Kind.GAUGE, List.of()),
            new Family(APPEND_LATENCY_SECONDS, Kind.HISTOGRAM, List.of()),
            new Family(STATE, Kind.GAUGE, List.of("state")),
            new Family(TRANSACTIONS_COMMITTED, Kind.COUNTER, List.of()),
            new Family(TRANSACTIONS_ABORTED, Kind.COUNTER, List.of()),
            new Family(TRANSACTION_DURATION_SECONDS, Kind.HISTOGRAM, List.of()),
            new Family(FORWARDER_ERRORS, Kind.COUNTER, List.of()));

    /** Upper bounds (ms) of {@code kafka_write_duration_ms}'s buckets: a local broker to a delivery time-out. */
    public static final double[] WRITE_DURATION_BUCKETS_MS = {
        1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000
    };
    /** Upper bounds (seconds) of {@code forwarder_kafka_transaction_duration_seconds}'s buckets: begin to commit. */
    public static final double[] TRANSACTION_DURATION_BUCKETS_SECONDS = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
    };
    /**
     * Upper bounds (seconds) of {@code forwarder_spool_append_latency_seconds}'s buckets: a page-cache copy (1 µs)
     * to a stalled disk (1 s).
     */
    public static final double[] APPEND_LATENCY_BUCKETS_SECONDS = {
        1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 0.001, 0.005, 0.02, 0.1, 1
    };

    private MetricNames() {}

    /** Whether {@code name} (a family, or a Dropwizard name: family.label...) is one of the forwarder's. */
    static boolean owned(String name) {
        for (Family family : FAMILIES) {
            if (name.equals(family.name()) || name.startsWith(family.name() + ".")) {
                return true;
            }
        }
        return false;
    }
}
