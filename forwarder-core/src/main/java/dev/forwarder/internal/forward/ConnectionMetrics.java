package dev.forwarder.internal.forward;

import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Turns the producer's own connection metrics into kafka_connections_established (connections made) and
 * kafka_connection_errors (connection attempts that failed, and failed authentications), from the
 * producer's monotonic totals, so a poll never misses an outage between two samples. Polled by the
 * forwarder thread; a new producer starts its totals again.
 *
 * <p>Kafka counts every closed connection in {@code connection-close-total}, the ones the producer closes
 * itself after {@code connections.max.idle.ms} without traffic included (every quiet night, and the bootstrap
 * connection nine minutes after every start): those are no errors. An attempt that failed is a connection
 * closed without ever having been made, and those are counted: {@code connection-close-total} plus the
 * connections open now ({@code connection-count}) less those ever made ({@code connection-creation-total}). A
 * connection still being made at a poll counts there for a moment, so an attempt counts as failed only once
 * two polls half a second apart both show it. A broker that goes away shows as the attempts to reach it
 * again; one that is back before the first attempt shows as nothing.
 */
final class ConnectionMetrics {

    private final DeliveryObserver observer;
    private Producer<?, ?> polled;
    private double lastCreated;
    private double lastAuthFailures;
    /** Failed attempts, as the last poll saw them (NaN before the first poll of a producer). */
    private double lastFailedAttempts;
    /** Failed attempts counted so far. */
    private double failedAttemptsCounted;

    ConnectionMetrics(DeliveryObserver observer) {
        this.observer = observer;
    }

    void poll(Producer<?, ?> producer) {
        double created = 0;
        double closed = 0;
        double open = 0;
        double authFailed = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            MetricName name = m.getKey();
            if (!"producer-metrics".equals(name.group()) || !(m.getValue().metricValue() instanceof Double v)) {
                continue;
            }
            switch (name.name()) {
                case "connection-creation-total" -> created = v;
                case "connection-close-total" -> closed = v;
                case "connection-count" -> open = v;
                case "failed-authentication-total" -> authFailed = v;
                default -> {}
            }
        }
        if (producer != polled) {
            polled = producer; // a new producer counts from zero
            lastCreated = 0;
            lastAuthFailures = 0;
            lastFailedAttempts = Double.NaN;
            failedAttemptsCounted = 0;
        }
        if (created > lastCreated) {
            observer.connectionsEstablished((long) (created - lastCreated));
        }
        double failedAttempts = closed + open - created;
        long errors = (long) (authFailed - lastAuthFailures);
        if (!Double.isNaN(lastFailedAttempts)) {
            double confirmed = Math.min(lastFailedAttempts, failedAttempts);
            if (confirmed > failedAttemptsCounted) {
                errors += (long) (confirmed - failedAttemptsCounted);
                failedAttemptsCounted = confirmed;
            }
        }
        if (errors > 0) {
            observer.connectionErrors(errors);
        }
        lastFailedAttempts = failedAttempts;
        lastCreated = Math.max(lastCreated, created);
        lastAuthFailures = Math.max(lastAuthFailures, authFailed);
    }
}
