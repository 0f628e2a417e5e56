package dev.forwarder.internal.metrics;

import static dev.forwarder.internal.metrics.MetricNames.*;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jmx.JmxReporter;
import dev.forwarder.DataType;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.forward.DeliveryObserver;
import dev.forwarder.internal.publish.Publisher;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.MapperConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The forwarder's metrics, in a Dropwizard {@link MetricRegistry} (the application's, or one of its own),
 * exposed in Prometheus text format through the Prometheus client's Dropwizard bridge, and over JMX.
 *
 * <p>The families, their kinds and labels are {@link MetricNames} (README "Metrics" says what each means).
 * Counters get Prometheus's {@code _total} suffix; the stems are these. In Dropwizard and JMX, labels are
 * the last parts of the name: {@code kafka_writes_success.chat_inference}. Each forwarder counts its own:
 * nothing here is process-wide, so two forwarders in one JVM never share a count.
 *
 * <p>The histograms are kept twice: as Dropwizard histograms and timers (a decaying reservoir: quantiles for
 * JMX and for an application reading the registry; the timers' durations shown in seconds) and as Prometheus
 * client histograms with fixed buckets, which is what the Prometheus exposition shows. Those keep no
 * exemplars: the text format we write carries none, and sampling them needs the Prometheus client's
 * {@code prometheus-metrics-tracer-initializer}, which Micrometer's Prometheus registry excludes from the
 * class path (with it first on a Boot application's class path, every sampled publish threw
 * {@code NoClassDefFoundError}). Buckets must be cumulative counters to be summed across
 * instances and to take {@code rate()}; a reservoir forgets, so buckets derived from it could go down.
 */
public final class ForwarderMetrics implements DeliveryObserver, Publisher.Observer {

    /** Receives each histogram observation too (the Micrometer binder's distribution summaries). */
    public interface HistogramListener {
        void writeDuration(DataType type, double ms);

        void appendLatency(long nanos);

        void transactionDuration(long nanos);
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

        /** Bytes of the dead-letter spool's files. */
        long deadLetterBytes();

        /** {@code spool.dead_letter.max_bytes}. */
        long deadLetterCapacityBytes();
    }

    private final MetricRegistry registry;
    private final PrometheusExposition exposition;
    private final DistributionDataPoint[] writeDurationBuckets = new DistributionDataPoint[DataType.values().length];
    private final DistributionDataPoint appendLatencyBuckets;
    private final DistributionDataPoint transactionBuckets;
    private final Counter transactionsCommitted;
    private final Counter transactionsAborted;
    private final Counter forwarderErrors;
    private final Counter idsNotV7;
    private final Timer transactionDuration;
    private final Map<String, Exported> exported = Collections.synchronizedMap(new LinkedHashMap<>());
    /** Names registered through {@link #counter(String, Map)}, exported beside the forwarder's own. */
    private final Set<String> added = ConcurrentHashMap.newKeySet();

    private final List<HistogramListener> listeners = new CopyOnWriteArrayList<>();
    private final JmxReporter jmx;
    private final Counter connectionsEstablished;
    private final Counter connectionErrors;
    private final Counter serializationErrors;
    private final Counter appended;
    private final Counter corrupt;
    private final Counter deadLetters;
    private final Counter deadLettersExpired;
    private final Counter lost;
    private final Timer appendLatency;
    private final Counter[] writesSuccess = new Counter[DataType.values().length];
    private final Counter[] writesFailed = new Counter[DataType.values().length];
    private final Counter[] topicRefusals = new Counter[DataType.values().length];
    private final Histogram[] writeDurationMs = new Histogram[DataType.values().length];
    private final Map<PublishResult.Status, Counter> dropped = new EnumMap<>(PublishResult.Status.class);

    public ForwarderMetrics(MetricRegistry registry, String topicPrefix, Source source, LongSupplier clockMs) {
        this.registry = registry;
        this.exposition = new PrometheusExposition(registry);
        PrometheusRegistry histograms = exposition.histograms();
        List<MapperConfig> labels = new ArrayList<>();
        io.prometheus.metrics.core.metrics.Histogram writeDuration =
                io.prometheus.metrics.core.metrics.Histogram.builder()
                        .name(WRITE_DURATION_MS)
                        .help("Send to acknowledgement by Kafka, ms")
                        .labelNames("topic", "data_type")
                        .classicOnly()
                        .withoutExemplars()
                        .classicUpperBounds(WRITE_DURATION_BUCKETS_MS)
                        .register(histograms);
        appendLatencyBuckets = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name(APPEND_LATENCY_SECONDS)
                .help("Time of the spool append in publish, seconds (one call in 64 sampled)")
                .classicOnly()
                .withoutExemplars()
                .classicUpperBounds(APPEND_LATENCY_BUCKETS_SECONDS)
                .register(histograms);
        transactionBuckets = io.prometheus.metrics.core.metrics.Histogram.builder()
                .name(TRANSACTION_DURATION_SECONDS)
                .help("delivery = exactly_once: a transaction's first record to its commit, seconds")
                .classicOnly()
                .withoutExemplars()
                .classicUpperBounds(TRANSACTION_DURATION_BUCKETS_SECONDS)
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
        idsNotV7 = registry.counter(IDS_NOT_V7);
        for (PublishResult.Status status : PublishResult.Status.values()) {
            if (!status.inSpool()) {
                String reason = status.name().substring("DROPPED_".length()).toLowerCase(Locale.ROOT);
                dropped.put(status, registry.counter(DROPPED + "." + reason));
                labels.add(new MapperConfig(DROPPED + "." + reason, DROPPED, Map.of("reason", reason)));
            }
        }
        corrupt = registry.counter(CORRUPT);
        deadLetters = registry.counter(DEAD_LETTERS);
        deadLettersExpired = registry.counter(DEAD_LETTERS_EXPIRED);
        lost = registry.counter(LOST);
        appendLatency = registry.timer(
                APPEND_LATENCY_SECONDS,
                () -> new Timer(LockFreeExponentiallyDecayingReservoir.builder().build()));
        transactionsCommitted = registry.counter(TRANSACTIONS_COMMITTED);
        transactionsAborted = registry.counter(TRANSACTIONS_ABORTED);
        forwarderErrors = registry.counter(FORWARDER_ERRORS);
        transactionDuration = registry.timer(
                TRANSACTION_DURATION_SECONDS,
                () -> new Timer(LockFreeExponentiallyDecayingReservoir.builder().build()));

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
        Supplier<Long> deadLetterDisk = cached(source::deadLetterBytes);
        registry.gauge(DEAD_LETTER_BYTES, () -> deadLetterDisk::get);
        registry.gauge(DEAD_LETTER_CAPACITY_BYTES, () -> source::deadLetterCapacityBytes);
        for (ForwarderStatus.State state : ForwarderStatus.State.values()) {
            String name = state.name().toLowerCase(Locale.ROOT);
            registry.gauge(STATE + "." + name, () -> () -> source.state() == state ? 1 : 0);
            labels.add(new MapperConfig(STATE + "." + name, STATE, Map.of("state", name)));
        }

        // The bridge maps each Dropwizard metric to one Prometheus family and refuses two of the same name,
        // so each metric gets an exporter of its own and the families are joined in writePrometheus().
        // The histograms are exported from the Prometheus client's own (buckets), not through the bridge.
        CustomLabelMapper mapper = new CustomLabelMapper(labels);
        Map<String, MapperConfig> byName = new HashMap<>();
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
                if (!(metric.getValue() instanceof Histogram) && !(metric.getValue() instanceof Timer)) {
                    exposition.export(name, mapper);
                }
            }
        }
        jmx = JmxReporter.forRegistry(registry)
                .inDomain("dev.forwarder")
                .convertDurationsTo(TimeUnit.SECONDS)
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
        return MetricNames.owned(name);
    }

    /** Every metric of the forwarder with the family name and labels it is exported under. */
    public List<Exported> exported() {
        synchronized (exported) {
            return List.copyOf(exported.values());
        }
    }

    private static final Pattern FAMILY = Pattern.compile("[a-z][a-z0-9_]*");

    /**
     * A counter exported with the forwarder's metrics (Prometheus, JMX, Micrometer when bound after), for a
     * component that records through this forwarder (the LangChain4j listener's {@code forwarder_langchain4j_errors}).
     * The same family and labels give the same counter.
     */
    public synchronized Counter counter(String family, Map<String, String> labels) {
        if (!FAMILY.matcher(family).matches() || family.endsWith("_total") || owned(family)) {
            throw new IllegalArgumentException("not a family name for an added counter: " + family);
        }
        StringBuilder name = new StringBuilder(family);
        // The Dropwizard (and JMX) name: the family and the label values, as kafka_writes_success.chat_inference.
        new TreeMap<>(labels).forEach((k, v) -> name.append('.').append(v.replaceAll("[^A-Za-z0-9_-]", "_")));
        String key = name.toString();
        Exported known = exported.get(key);
        if (known != null) {
            return (Counter) known.metric();
        }
        added.add(key);
        Counter counter = registry.counter(key);
        exported.put(key, new Exported(family, Map.copyOf(labels), counter));
        exposition.export(
                key, labels.isEmpty() ? null : new CustomLabelMapper(List.of(new MapperConfig(key, family, labels))));
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
        exposition.write(out);
    }

    public static String prometheusContentType() {
        return PrometheusExposition.contentType();
    }

    // ---- the request path ----

    public void appended(long latencyNanos, boolean sampled) {
        appended.inc();
        if (sampled) {
            appendLatency.update(latencyNanos, TimeUnit.NANOSECONDS);
            appendLatencyBuckets.observe(latencyNanos / 1e9);
            for (HistogramListener listener : listeners) {
                listener.appendLatency(latencyNanos);
            }
        }
    }

    @Override
    public void idsNotV7(long count) {
        idsNotV7.inc(count);
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
        transactionDuration.update(nanos, TimeUnit.NANOSECONDS);
        transactionBuckets.observe(nanos / 1e9);
        for (HistogramListener listener : listeners) {
            listener.transactionDuration(nanos);
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
    public void deadLettersExpired(long count) {
        deadLettersExpired.inc(count);
    }

    @Override
    public void lost(long count) {
        lost.inc(count);
    }

    /** Unregisters from JMX (the registry's metrics stay, for an application that owns the registry). */
    public void close() {
        jmx.stop();
    }
}
