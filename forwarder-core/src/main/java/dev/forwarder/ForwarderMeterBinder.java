package dev.forwarder;

import com.codahale.metrics.Counter;
import dev.forwarder.internal.metrics.ForwarderMetrics;
import dev.forwarder.internal.metrics.MetricNames;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Registers every metric of a {@link Forwarder} on a Micrometer {@link MeterRegistry}, with the names and
 * labels of its Prometheus exposition (README "Metrics"), so that an application on Micrometer (Spring Boot
 * with Actuator: {@code /actuator/prometheus}) shows them beside its own:
 *
 * <pre>{@code
 * @Bean
 * MeterBinder forwarderMetrics(Forwarder forwarder) {
 *     return new ForwarderMeterBinder(forwarder);
 * }
 * }</pre>
 *
 * <p>Counters and gauges read the forwarder's own values, so they count from the forwarder's start whenever
 * they are bound. The histograms become meters with the same bucket bounds, fed with each observation from
 * the moment they are bound: {@code kafka_write_duration_ms}, the seed's, a {@link DistributionSummary} of
 * milliseconds; the durations in seconds {@link Timer timers}. Needs micrometer-core on
 * the class path (an optional dependency of this library).
 */
public final class ForwarderMeterBinder implements MeterBinder, AutoCloseable {

    private final ForwarderMetrics metrics;
    private final List<ForwarderMetrics.HistogramListener> bound = new ArrayList<>();

    public ForwarderMeterBinder(Forwarder forwarder) {
        this.metrics = forwarder.metrics();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        DistributionSummary[] writeDuration = new DistributionSummary[DataType.values().length];
        Timer appendLatency = null;
        Timer transactionDuration = null;
        for (ForwarderMetrics.Exported metric : metrics.exported()) {
            List<Tag> tags = new ArrayList<>();
            for (Map.Entry<String, String> label : metric.labels().entrySet()) {
                tags.add(Tag.of(label.getKey(), label.getValue()));
            }
            if (metric.metric() instanceof Counter counter) {
                FunctionCounter.builder(metric.name(), counter, Counter::getCount)
                        .tags(tags)
                        .register(registry);
            } else if (metric.metric() instanceof com.codahale.metrics.Gauge<?> gauge) {
                Gauge.builder(metric.name(), gauge, ForwarderMeterBinder::number)
                        .tags(tags)
                        .register(registry);
            } else if (metric.name().equals(MetricNames.WRITE_DURATION_MS)) {
                DataType type =
                        DataType.fromWireName(metric.labels().get("data_type")).orElseThrow();
                writeDuration[type.ordinal()] = DistributionSummary.builder(metric.name())
                        .tags(tags)
                        .serviceLevelObjectives(MetricNames.WRITE_DURATION_BUCKETS_MS)
                        .register(registry);
            } else if (metric.name().equals(MetricNames.APPEND_LATENCY_SECONDS)) {
                appendLatency = Timer.builder(metric.name())
                        .tags(tags)
                        .serviceLevelObjectives(durations(MetricNames.APPEND_LATENCY_BUCKETS_SECONDS))
                        .register(registry);
            } else if (metric.name().equals(MetricNames.TRANSACTION_DURATION_SECONDS)) {
                transactionDuration = Timer.builder(metric.name())
                        .tags(tags)
                        .serviceLevelObjectives(durations(MetricNames.TRANSACTION_DURATION_BUCKETS_SECONDS))
                        .register(registry);
            } else {
                throw new IllegalStateException("no Micrometer meter for " + metric.name() + " ("
                        + metric.metric().getClass().getSimpleName() + ")");
            }
        }
        Timer append = appendLatency;
        Timer transaction = transactionDuration;
        ForwarderMetrics.HistogramListener listener = new ForwarderMetrics.HistogramListener() {
            @Override
            public void writeDuration(DataType type, double ms) {
                writeDuration[type.ordinal()].record(ms);
            }

            @Override
            public void appendLatency(long nanos) {
                append.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void transactionDuration(long nanos) {
                transaction.record(nanos, TimeUnit.NANOSECONDS);
            }
        };
        synchronized (bound) {
            bound.add(listener);
        }
        metrics.addHistogramListener(listener);
    }

    private static Duration[] durations(double[] seconds) {
        return Arrays.stream(seconds)
                .mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9)))
                .toArray(Duration[]::new);
    }

    private static double number(com.codahale.metrics.Gauge<?> gauge) {
        return gauge.getValue() instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Stops feeding the distribution summaries (the counters and gauges stay readable). */
    @Override
    public void close() {
        synchronized (bound) {
            bound.forEach(metrics::removeHistogramListener);
            bound.clear();
        }
    }
}
