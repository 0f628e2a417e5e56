package dev.forwarder.internal.kafka;

import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Turns the producer's own connection metrics into kafka_connections_established (new connections) and
 * kafka_connection_errors (connections lost to a cluster we were connected to, and failed authentications).
 * Kafka's client does not count failed connection attempts, only these. Polled by the forwarder thread.
 */
public final class ConnectionMetrics {

    private final DeliveryObserver observer;
    private double lastConnectionsCreated;
    private double lastConnectionCount;
    private double lastAuthFailures;

    public ConnectionMetrics(DeliveryObserver observer) {
        this.observer = observer;
    }

    public void poll(Producer<?, ?> producer) {
        double created = 0;
        double count = 0;
        double authFailed = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            MetricName name = m.getKey();
            if (!"producer-metrics".equals(name.group()) || !(m.getValue().metricValue() instanceof Double v)) {
                continue;
            }
            switch (name.name()) {
                case "connection-creation-total" -> created = v;
                case "connection-count" -> count = v;
                case "failed-authentication-total" -> authFailed = v;
                default -> {
                }
            }
        }
        if (created < lastConnectionsCreated || authFailed < lastAuthFailures) {
            lastConnectionsCreated = 0; // a new producer starts its counts again
            lastAuthFailures = 0;
        }
        if (created > lastConnectionsCreated) {
            observer.connectionsEstablished((long) (created - lastConnectionsCreated));
        }
        long errors = (long) (authFailed - lastAuthFailures) + (lastConnectionCount > 0 && count == 0 ? 1 : 0);
        if (errors > 0) {
            observer.connectionErrors(errors);
        }
        lastConnectionsCreated = created;
        lastAuthFailures = authFailed;
        lastConnectionCount = count;
    }
}
