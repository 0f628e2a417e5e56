package dev.forwarder.internal.forward;

import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Turns the producer's own connection metrics into kafka_connections_established (connections made) and
 * kafka_connection_errors (connections closed under the producer: a broker that went away, a connection
 * attempt that failed, and failed authentications). Both come from the producer's monotonic totals
 * ({@code connection-creation-total}, {@code connection-close-total}, {@code failed-authentication-total}),
 * so a poll never misses an outage between two samples. Polled by the forwarder thread; a new producer
 * starts its totals again.
 */
final class ConnectionMetrics {

    private final DeliveryObserver observer;
    private Producer<?, ?> polled;
    private double lastCreated;
    private double lastClosed;
    private double lastAuthFailures;

    ConnectionMetrics(DeliveryObserver observer) {
        this.observer = observer;
    }

    void poll(Producer<?, ?> producer) {
        double created = 0;
        double closed = 0;
        double authFailed = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            MetricName name = m.getKey();
            if (!"producer-metrics".equals(name.group()) || !(m.getValue().metricValue() instanceof Double v)) {
                continue;
            }
            switch (name.name()) {
                case "connection-creation-total" -> created = v;
                case "connection-close-total" -> closed = v;
                case "failed-authentication-total" -> authFailed = v;
                default -> {}
            }
        }
        if (producer != polled) {
            polled = producer; // a new producer counts from zero
            lastCreated = 0;
            lastClosed = 0;
            lastAuthFailures = 0;
        }
        if (created > lastCreated) {
            observer.connectionsEstablished((long) (created - lastCreated));
        }
        long errors = (long) (closed - lastClosed) + (long) (authFailed - lastAuthFailures);
        if (errors > 0) {
            observer.connectionErrors(errors);
        }
        lastCreated = Math.max(lastCreated, created);
        lastClosed = Math.max(lastClosed, closed);
        lastAuthFailures = Math.max(lastAuthFailures, authFailed);
    }
}
