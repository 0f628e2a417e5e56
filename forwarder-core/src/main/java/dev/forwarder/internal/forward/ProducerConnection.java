package dev.forwarder.internal.forward;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarder's Kafka producer: getting one (the cluster check first, when start-up did not run it, then
 * building it), replacing it, closing it, and reading its connection metrics.
 *
 * <p>The cluster check talks to the cluster for seconds, so it runs on a thread of its own; {@link #connect}
 * only looks at its result, and the duty cycle stays free to make room, settle and drain meanwhile. Building
 * a producer fails for a host name that does not resolve yet or a bad {@code producer} setting: that is a
 * failure with the reason, never an exception out of here. Forwarder thread only.
 */
final class ProducerConnection {

    private static final Logger LOG = LoggerFactory.getLogger(ProducerConnection.class);
    private static final long METRICS_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private enum Step {
        WAITING,
        FAILED,
        READY
    }

    private final Supplier<Producer<byte[], byte[]>> producers;
    private final ForwarderWiring.ClusterProbe probe;
    private final DeliveryObserver observer;
    private final ConnectionMetrics metrics;
    private final String name;
    private CompletableFuture<Void> check;
    private boolean checked;
    private Producer<byte[], byte[]> producer;
    private String failure;
    /** The last failure logged: each distinct one is logged once, not at every retry. */
    private String lastLogged;

    private long lastPollNanos;

    ProducerConnection(
            Supplier<Producer<byte[], byte[]>> producers,
            ForwarderWiring.ClusterProbe probe,
            DeliveryObserver observer,
            String name) {
        this.producers = producers;
        this.probe = probe;
        this.observer = observer;
        this.metrics = new ConnectionMetrics(observer);
        this.name = name;
        this.checked = probe == null;
    }

    /** The producer, or null while there is none: the only reference to it, so a discarded one is never used. */
    Producer<byte[], byte[]> producer() {
        return producer;
    }

    /**
     * Null once there is a producer; otherwise one step towards one: {@link Outcome#IDLE} while the cluster
     * check runs, or a {@link Outcome.Kind#RETRY} with the reason (counted, logged once per distinct reason).
     */
    Outcome notReady() {
        return switch (connect()) {
            case READY -> null;
            case WAITING -> Outcome.IDLE;
            case FAILED -> {
                logOnce("cannot use Kafka yet, spooling meanwhile; retrying with back-off: {}", failure);
                yield Outcome.retry(failure);
            }
        };
    }

    /**
     * The producer was built but cannot be used ({@code initTransactions} or the position read failed):
     * discarded, counted, logged once per distinct reason.
     */
    Outcome failedToStart(String why) {
        discard(why);
        observer.connectionErrors(1);
        logOnce("{}; spooling meanwhile, retrying with back-off", why);
        return Outcome.retry(why);
    }

    /** Forwarding started: the next failure is logged again even if it is the last one logged. */
    void forgetFailures() {
        lastLogged = null;
    }

    private void logOnce(String format, String why) {
        if (!why.equals(lastLogged)) {
            LOG.warn(format, why);
            lastLogged = why;
        }
    }

    /** One step towards a producer. After FAILED, {@link #failure} says why (already counted). */
    private Step connect() {
        if (producer != null) {
            return Step.READY;
        }
        if (!checked) {
            if (check == null) {
                CompletableFuture<Void> started = new CompletableFuture<>();
                check = started;
                Thread t = new Thread(
                        () -> {
                            try {
                                probe.check();
                                started.complete(null);
                            } catch (Exception e) {
                                started.completeExceptionally(e);
                            }
                        },
                        name + "-cluster-check");
                t.setDaemon(true);
                t.start();
            }
            if (!check.isDone()) {
                return Step.WAITING;
            }
            try {
                check.join();
                checked = true;
                observer.connectionsEstablished(1);
            } catch (CompletionException e) {
                check = null;
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                return failed(
                        cause instanceof RuntimeException
                                ? "cannot check the Kafka cluster: " + rootMessage(cause)
                                : cause.getMessage());
            }
        }
        try {
            producer = producers.get();
            return Step.READY;
        } catch (RuntimeException e) {
            return failed("cannot create the Kafka producer: " + rootMessage(e));
        }
    }

    private Step failed(String why) {
        observer.connectionErrors(1);
        failure = why;
        return Step.FAILED;
    }

    /** Closes the producer at once (its sends in flight fail); the next {@link #connect} builds a new one. */
    void discard(String why) {
        if (producer != null) {
            LOG.info("replacing the Kafka producer after: {}", why);
            producer.close(Duration.ZERO);
            producer = null;
        }
    }

    /** Reads the producer's connection metrics, at most twice a second. */
    void pollMetrics(long nowNanos) {
        if (producer != null && nowNanos - lastPollNanos >= METRICS_POLL_NANOS) {
            metrics.poll(producer);
            lastPollNanos = nowNanos;
        }
    }

    void close(Duration timeout) {
        if (producer != null) {
            producer.close(timeout);
            producer = null;
        }
    }

    private static String rootMessage(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append(": ").append(c.getMessage());
        }
        return b.toString();
    }
}
