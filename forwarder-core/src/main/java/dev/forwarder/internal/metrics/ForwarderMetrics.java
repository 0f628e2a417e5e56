package dev.forwarder.internal.metrics;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.jmx.JmxReporter;
import dev.forwarder.DataType;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.forward.DeliveryObserver;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.MapperConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The forwarder's metrics, in a Dropwizard {@link MetricRegistry} (the application's, or one of its own),
 * exposed in Prometheus text format through the Prometheus client's Dropwizard bridge, and over JMX.
 *
 * <p>The names of TensorZero's Kafka integration, with its labels:
 * <pre>
 *   kafka_connections_established            counter
 *   kafka_connection_errors                  counter
 *   kafka_writes_success{topic,data_type}    counter: records acknowledged by Kafka
 *   kafka_writes_failed{topic,data_type}     counter: failed sends (each is retried, or dead-lettered)
 *   kafka_serialization_errors               counter: records that could not be serialised
 *   kafka_topic_refusals{topic,data_type}    counter: sends refused because of the topic (not authorised,
 *                                            invalid name); the forwarder waits, nothing is dropped
 *   kafka_write_duration_ms{topic,data_type} histogram: send to acknowledgement, ms
 * </pre>
 * and the spool's own: {@code spool_records_appended}, {@code spool_records_dropped{reason}},
 * {@code spool_backlog_records}, {@code spool_backlog_bytes} (backlog x mean record size),
 * {@code spool_oldest_unforwarded_age_seconds}, {@code spool_checkpoint_index},
 * {@code spool_corrupt_records}, {@code spool_dead_letters}, {@code spool_records_lost}, {@code spool_disk_bytes},
 * {@code spool_capacity_bytes} ({@code max_bytes}), {@code spool_append_latency_us} (histogram, one publish
 * in 64 sampled), {@code event_ids_not_v7} and {@code forwarder_state{state}} (1 for the current state).
 * Counters get Prometheus's {@code _total} suffix; the stems are these. In Dropwizard and JMX, labels are
 * the last parts of the name: {@code kafka_writes_success.chat_inference}.
 *
 * <p>The two histograms are kept twice: as Dropwizard histograms (a decaying reservoir: quantiles for JMX and
 * for an application reading the registry) and as Prometheus client histograms with fixed buckets, which
 * is what the Prometheus exposition shows. Buckets must be cumulative counters to be summed across
 * instances and to take {@code rate()}; a reservoir forgets, so buckets derived from it could go down.
 */
public final class ForwarderMetrics implements DeliveryObserver, dev.forwarder.internal.publish.Publisher.Observer {

    public static final String CONNECTIONS_ESTABLISHED = "kafka_connections_established";
    public static final String CONNECTION_ERRORS = "kafka_connection_errors";
    public static final String WRITES_SUCCESS = "kafka_writes_success";
    public static final String WRITES_FAILED = "kafka_writes_failed";
    public static final String SERIALIZATION_ERRORS = "kafka_serialization_errors";
    public static final String WRITE_DURATION_MS = "kafka_write_duration_ms";
    public static final String APPENDED = "spool_records_appended";
    public static final String IDS_NOT_V7 = "event_ids_not_v7";
    public static final String DROPPED = "spool_records_dropped";
    public static final String BACKLOG_RECORDS = "spool_backlog_records";
    public static final String BACKLOG_BYTES = "spool_backlog_bytes";
    public static final String OLDEST_AGE = "spool_oldest_unforwarded_age_seconds";
    public static final String CHECKPOINT = "spool_checkpoint_index";
    public static final String CORRUPT = "spool_corrupt_records";
    public static final String DEAD_LETTERS = "spool_dead_letters";
    public static final String LOST = "spool_records_lost";
    public static final String DISK_BYTES = "spool_disk_bytes";
    public static final String APPEND_LATENCY_US = "spool_append_latency_us";
    public static final String STATE = "forwarder_state";
    public static final String TOPIC_REFUSALS = "kafka_topic_refusals";
    public static final String CAPACITY_BYTES = "spool_capacity_bytes";
    public static final String TRANSACTIONS_COMMITTED = "kafka_transactions_committed";
    public static final String TRANSACTIONS_ABORTED = "kafka_transactions_aborted";
    public static final String TRANSACTION_DURATION_MS = "kafka_transaction_duration_ms";
    public static final String FORWARDER_ERRORS = "forwarder_errors";

    /** Upper bounds (ms) of {@code kafka_write_duration_ms}'s buckets: a local broker to a delivery time-out. */
    public static final double[] WRITE_DURATION_BUCKETS_MS = {
        1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000
    };
    /** Upper bounds (ms) of {@code kafka_transaction_duration_ms}'s buckets: begin to commit. */
    public static final double[] TRANSACTION_DURATION_BUCKETS_MS = {
        5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000
    };
    /** Upper bounds (µs) of {@code spool_append_latency_us}'s buckets: a page-cache copy to a stalled disk. */
    public static final double[] APPEND_LATENCY_BUCKETS_US = {
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 5_000, 20_000, 100_000, 1_000_000
    };

    /** Receives each histogram observation too (the Micrometer binder's distribution summaries). */
    public interface HistogramListener {
        void writeDuration(DataType type, double ms);

        void appendLatency(double us);

        void transactionDuration(double ms);
    }

    /** A metric as exported: its family name and labels, and the Dropwizard metric holding its value. */
    public record Exported(String name, Map<String, String> labels, Metric metric) {}

    /** What the gauges read; supplied by the forwarder. */
    public interface Source {
        ForwarderStatus.State state();

        long checkpoint();

        long backlogRecords();

        long meanRecordBytes();

        /** Append time (epoch ms) of the oldest record not yet forwarded, or -1 for none. */
        long oldestUnforwardedAppendTimeMs();

        long diskBytes();

        /** {@code spool.max_bytes}. */
        long capacityBytes();
    }

    private final MetricRegistry registry;
    private final List<DropwizardExports> exporters = new CopyOnWriteArrayList<>();
    private final PrometheusRegistry histograms = new PrometheusRegistry();
    private final DistributionDataPoint[] writeDurationBuckets = new DistributionDataPoint[DataType.values().length];
    private final DistributionDataPoint appendLatencyBuckets;
    private final DistributionDataPoint transactionBuckets;
    private final Counter transactionsCommitted;
    private final Counter transactionsAborted;
    private final Counter forwarderErrors;
    private final Histogram transactionDurationMs;
    private final Map<String, Exported> exported = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /** Names registered through {@link #counter(String, Map)}, exported beside the forwarder's own. */
    private final java.util.Set<String> added = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final List<HistogramListener> listeners = new CopyOnWriteArrayList<>();
    private final JmxReporter jmx;
    private final Counter connectionsEstablished;
    private final Counter connectionErrors;
    private final Counter serializationErrors;
    private final Counter appended;
    private final Counter corrupt;
    private final Counter deadLetters;
    private final Counter lost;
    private final Histogram appendLatencyUs;
    private final Counter[] writesSuccess = new Counter[DataType.values().length];
    private final Counter[] writesFailed = new Counter[DataType.values().length];
    private final Counter[] topicRefusals = new Counter[DataType.values().length];
    private final Histogram[] writeDurationMs = new Histogram[DataType.values().length];
    private final Map<PublishResult.Status, Counter> dropped = new EnumMap<>(PublishResult.Status.class);

    public ForwarderMetrics(MetricRegistry registry, String topicPrefix, Source source, LongSupplier clockMs) {
        this.registry = registry;
        List<MapperConfig> labels = new ArrayList<>();
        io.prometheus.metrics.core.metrics.Histogram writeDuration =
                io.prometheus.metrics.core.metrics.Histogram.builder()
                        .name(WRITE_DURATION_MS)
                        .help("Send to acknowledgement by Kafka, ms")
                        .labelNames("topic", "data_type")
                        .classicOnly()
                        .classicUpperBounds(WRITE_DURATION_BUCKETS_MS)
                        .register(histograms);
        appendLatencyBuckets = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name(APPEND_LATENCY_US)
                .help("Time of the spool append in publish, µs (one call in 64 sampled)")
                .classicOnly()
                .classicUpperBounds(APPEND_LATENCY_BUCKETS_US)
                .register(histograms);
        transactionBuckets = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name(TRANSACTION_DURATION_MS)
                .help("delivery = exactly_once: a transaction's first record to its commit, ms")
                .classicOnly()
                .classicUpperBounds(TRANSACTION_DURATION_BUCKETS_MS)
                .register(histograms);
        connectionsEstablished = registry.counter(CONNECTIONS_ESTABLISHED);
        connectionErrors = registry.counter(CONNECTION_ERRORS);
        serializationErrors = registry.counter(SERIALIZATION_ERRORS);
        for (DataType type : DataType.values()) {
            String topic = type.topic(topicPrefix);
            Map<String, String> tags = Map.of("topic", topic, "data_type", type.wireName());
            writesSuccess[type.ordinal()] = registry.counter(WRITES_SUCCESS + "." + type.wireName());
            writesFailed[type.ordinal()] = registry.counter(WRITES_FAILED + "." + type.wireName());
            topicRefusals[type.ordinal()] = registry.counter(TOPIC_REFUSALS + "." + type.wireName());
            writeDurationMs[type.ordinal()] = registry.histogram(
                    WRITE_DURATION_MS + "." + type.wireName(),
                    () -> new Histogram(
                            LockFreeExponentiallyDecayingReservoir.builder().build()));
            writeDurationBuckets[type.ordinal()] = writeDuration.labelValues(topic, type.wireName());
            for (String name : List.of(WRITES_SUCCESS, WRITES_FAILED, WRITE_DURATION_MS, TOPIC_REFUSALS)) {
                labels.add(new MapperConfig(name + "." + type.wireName(), name, tags));
            }
        }
        appended = registry.counter(APPENDED);
        // Read from the codecs' process-wide count (typed publishes and HTTP ingest both check ids).
        registry.counter(IDS_NOT_V7, () -> new com.codahale.metrics.Counter() {
            @Override
            public long getCount() {
                return dev.forwarder.internal.json.EventCodec.nonV7IdsSeen();
            }
        });
        for (PublishResult.Status status : PublishResult.Status.values()) {
            if (!status.inSpool()) {
                String reason = status.name().substring("DROPPED_".length()).toLowerCase(Locale.ROOT);
                dropped.put(status, registry.counter(DROPPED + "." + reason));
                labels.add(new MapperConfig(DROPPED + "." + reason, DROPPED, Map.of("reason", reason)));
            }
        }
        corrupt = registry.counter(CORRUPT);
        deadLetters = registry.counter(DEAD_LETTERS);
        lost = registry.counter(LOST);
        appendLatencyUs = registry.histogram(
                APPEND_LATENCY_US,
                () -> new Histogram(
                        LockFreeExponentiallyDecayingReservoir.builder().build()));
        transactionsCommitted = registry.counter(TRANSACTIONS_COMMITTED);
        transactionsAborted = registry.counter(TRANSACTIONS_ABORTED);
        forwarderErrors = registry.counter(FORWARDER_ERRORS);
        transactionDurationMs = registry.histogram(
                TRANSACTION_DURATION_MS,
                () -> new Histogram(
                        LockFreeExponentiallyDecayingReservoir.builder().build()));

        Supplier<Long> backlog = cached(source::backlogRecords);
        registry.gauge(BACKLOG_RECORDS, () -> backlog::get);
        registry.gauge(BACKLOG_BYTES, () -> () -> backlog.get() * source.meanRecordBytes());
        Supplier<Long> oldest = cached(source::oldestUnforwardedAppendTimeMs);
        registry.gauge(OLDEST_AGE, () -> () -> {
            long t = oldest.get();
            return t < 0 ? 0.0 : Math.max(0, clockMs.getAsLong() - t) / 1000.0;
        });
        registry.gauge(CHECKPOINT, () -> source::checkpoint);
        Supplier<Long> disk = cached(source::diskBytes);
        registry.gauge(DISK_BYTES, () -> disk::get);
        registry.gauge(CAPACITY_BYTES, () -> source::capacityBytes);
        for (ForwarderStatus.State state : ForwarderStatus.State.values()) {
            String name = state.name().toLowerCase(Locale.ROOT);
            registry.gauge(STATE + "." + name, () -> () -> source.state() == state ? 1 : 0);
            labels.add(new MapperConfig(STATE + "." + name, STATE, Map.of("state", name)));
        }

        // The bridge maps each Dropwizard metric to one Prometheus family and refuses two of the same name,
        // so each metric gets an exporter of its own and the families are joined in writePrometheus().
        // The histograms are exported from the Prometheus client's own (buckets), not through the bridge.
        CustomLabelMapper mapper = new CustomLabelMapper(labels);
        Map<String, MapperConfig> byName = new java.util.HashMap<>();
        labels.forEach(l -> byName.put(l.getMatch(), l));
        for (Map.Entry<String, Metric> metric : registry.getMetrics().entrySet()) {
            String name = metric.getKey();
            if (owned(name)) {
                MapperConfig label = byName.get(name);
                exported.put(
                        name,
                        label == null
                                ? new Exported(name, Map.of(), metric.getValue())
                                : new Exported(label.getName(), label.getLabels(), metric.getValue()));
                if (!(metric.getValue() instanceof Histogram)) {
                    exporters.add(new DropwizardExports(registry, (n, m) -> n.equals(name), mapper));
                }
            }
        }
        jmx = JmxReporter.forRegistry(registry)
                .inDomain("dev.forwarder")
                .filter((name, metric) -> owned(name) || added.contains(name))
                .build();
        jmx.start();
    }

    /** Evaluated at most once a second, so that a scrape does not walk the spool for every gauge. */
    private static Supplier<Long> cached(LongSupplier value) {
        CachedGauge<Long> gauge = new CachedGauge<>(1, TimeUnit.SECONDS) {
            @Override
            protected Long loadValue() {
                return value.getAsLong();
            }
        };
        return gauge::getValue;
    }

    public MetricRegistry registry() {
        return registry;
    }

    private static boolean owned(String name) {
        return name.startsWith("kafka_")
                || name.startsWith("spool_")
                || name.startsWith(STATE)
                || name.equals(FORWARDER_ERRORS)
                || name.equals(IDS_NOT_V7);
    }

    /** Every metric of the forwarder with the family name and labels it is exported under. */
    public List<Exported> exported() {
        synchronized (exported) {
            return List.copyOf(exported.values());
        }
    }

    private static final java.util.regex.Pattern FAMILY = java.util.regex.Pattern.compile("[a-z][a-z0-9_]*");

    /**
     * A counter exported with the forwarder's metrics (Prometheus, JMX, Micrometer when bound after), for a
     * component that records through this forwarder (the LangChain4j listener's {@code langchain4j_errors}).
     * The same family and labels give the same counter.
     */
    public synchronized Counter counter(String family, Map<String, String> labels) {
        if (!FAMILY.matcher(family).matches() || family.endsWith("_total") || owned(family)) {
            throw new IllegalArgumentException("not a family name for an added counter: " + family);
        }
        StringBuilder name = new StringBuilder(family);
        // The Dropwizard (and JMX) name: the family and the label values, as kafka_writes_success.chat_inference.
        new java.util.TreeMap<>(labels).forEach((k, v) -> name.append('.').append(v.replaceAll("[^A-Za-z0-9_-]", "_")));
        String key = name.toString();
        Exported known = exported.get(key);
        if (known != null) {
            return (Counter) known.metric();
        }
        added.add(key);
        Counter counter = registry.counter(key);
        exported.put(key, new Exported(family, Map.copyOf(labels), counter));
        exporters.add(
                labels.isEmpty()
                        ? new DropwizardExports(registry, (n, m) -> n.equals(key))
                        : new DropwizardExports(
                                registry,
                                (n, m) -> n.equals(key),
                                new CustomLabelMapper(List.of(new MapperConfig(key, family, labels)))));
        return counter;
    }

    public void addHistogramListener(HistogramListener listener) {
        listeners.add(listener);
    }

    public void removeHistogramListener(HistogramListener listener) {
        listeners.remove(listener);
    }

    /** Writes every metric in the Prometheus text exposition format (version 0.0.4). */
    public void writePrometheus(OutputStream out) throws IOException {
        Map<String, List<MetricSnapshot>> families = new TreeMap<>();
        for (DropwizardExports exporter : exporters) {
            for (MetricSnapshot snapshot : exporter.collect()) {
                families.computeIfAbsent(snapshot.getMetadata().getPrometheusName(), n -> new ArrayList<>())
                        .add(snapshot);
            }
        }
        for (MetricSnapshot snapshot : histograms.scrape()) {
            families.put(snapshot.getMetadata().getPrometheusName(), List.of(snapshot));
        }
        List<MetricSnapshot> joined = new ArrayList<>();
        for (List<MetricSnapshot> family : families.values()) {
            joined.add(join(family));
        }
        PrometheusTextFormatWriter.create().write(out, new MetricSnapshots(joined));
    }

    /** One family from the snapshots of several Dropwizard metrics that differ only in their labels. */
    private static MetricSnapshot join(List<MetricSnapshot> family) {
        MetricSnapshot first = family.get(0);
        if (family.size() == 1) {
            return first;
        }
        if (first instanceof CounterSnapshot) {
            return new CounterSnapshot(
                    first.getMetadata(), points(family, CounterSnapshot.CounterDataPointSnapshot.class));
        } else if (first instanceof GaugeSnapshot) {
            return new GaugeSnapshot(first.getMetadata(), points(family, GaugeSnapshot.GaugeDataPointSnapshot.class));
        }
        throw new IllegalStateException("cannot join metric family "
                + first.getMetadata().getName() + " of type " + first.getClass().getSimpleName());
    }

    private static <T> List<T> points(List<MetricSnapshot> family, Class<T> type) {
        List<T> points = new ArrayList<>();
        for (MetricSnapshot snapshot : family) {
            snapshot.getDataPoints().forEach(p -> points.add(type.cast(p)));
        }
        return points;
    }

    public static String prometheusContentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    // ---- the request path ----

    public void appended(long latencyNanos, boolean sampled) {
        appended.inc();
        if (sampled) {
            appendLatencyUs.update(TimeUnit.NANOSECONDS.toMicros(latencyNanos));
            double us = latencyNanos / 1_000.0;
            appendLatencyBuckets.observe(us);
            for (HistogramListener listener : listeners) {
                listener.appendLatency(us);
            }
        }
    }

    public void dropped(PublishResult.Status status) {
        dropped.get(status).inc();
        if (status == PublishResult.Status.DROPPED_SERIALIZATION_ERROR) {
            serializationErrors.inc();
        }
    }

    // ---- the forwarder ----

    @Override
    public void acknowledged(DataType type, long nanos) {
        writesSuccess[type.ordinal()].inc();
        writeDurationMs[type.ordinal()].update(TimeUnit.NANOSECONDS.toMillis(nanos));
        double ms = nanos / 1_000_000.0;
        writeDurationBuckets[type.ordinal()].observe(ms);
        for (HistogramListener listener : listeners) {
            listener.writeDuration(type, ms);
        }
    }

    @Override
    public void failed(DataType type, Exception error) {
        writesFailed[type.ordinal()].inc();
    }

    @Override
    public void topicRefused(DataType type) {
        topicRefusals[type.ordinal()].inc();
    }

    @Override
    public void connectionsEstablished(long count) {
        connectionsEstablished.inc(count);
    }

    @Override
    public void connectionErrors(long count) {
        connectionErrors.inc(count);
    }

    @Override
    public void transactionCommitted(long nanos) {
        transactionsCommitted.inc();
        transactionDurationMs.update(TimeUnit.NANOSECONDS.toMillis(nanos));
        double ms = nanos / 1_000_000.0;
        transactionBuckets.observe(ms);
        for (HistogramListener listener : listeners) {
            listener.transactionDuration(ms);
        }
    }

    @Override
    public void transactionAborted() {
        transactionsAborted.inc();
    }

    @Override
    public void forwarderError() {
        forwarderErrors.inc();
    }

    @Override
    public void corrupt() {
        corrupt.inc();
    }

    @Override
    public void deadLettered() {
        deadLetters.inc();
    }

    @Override
    public void lost(long count) {
        lost.inc(count);
    }

    /** Unregisters from JMX (the registry's metrics stay, for an application that owns the registry). */
    public void close() {
        jmx.stop();
    }

    /** The value of a Dropwizard gauge, for the status command. */
    @SuppressWarnings("unchecked")
    public Object gaugeValue(String name) {
        Gauge<Object> g = (Gauge<Object>) registry.getGauges().get(name);
        return g == null ? null : g.getValue();
    }
}
