package dev.forwarder.internal.metrics;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The forwarder's metrics in the Prometheus text exposition format (version 0.0.4): the Dropwizard counters
 * and gauges through the Prometheus client's bridge, the histograms from the Prometheus client's own
 * registry (cumulative buckets).
 *
 * <p>The bridge maps each Dropwizard metric to one Prometheus family and refuses two of the same name, so
 * each metric gets an exporter of its own, and the families that differ only in their labels are joined when
 * written.
 */
final class PrometheusExposition {

    private final MetricRegistry registry;
    private final List<DropwizardExports> exporters = new CopyOnWriteArrayList<>();
    private final PrometheusRegistry histograms = new PrometheusRegistry();

    PrometheusExposition(MetricRegistry registry) {
        this.registry = registry;
    }

    /** The registry the histograms are built in. */
    PrometheusRegistry histograms() {
        return histograms;
    }

    /** Exports the Dropwizard metric {@code name}, its family and labels given by {@code labels} (or none). */
    void export(String name, CustomLabelMapper labels) {
        exporters.add(
                labels == null
                        ? new DropwizardExports(registry, (n, m) -> n.equals(name))
                        : new DropwizardExports(registry, (n, m) -> n.equals(name), labels));
    }

    void write(OutputStream out) throws IOException {
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

    static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
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
}
