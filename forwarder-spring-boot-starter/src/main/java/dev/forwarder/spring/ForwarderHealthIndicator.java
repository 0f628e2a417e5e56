package dev.forwarder.spring;

import com.codahale.metrics.Gauge;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderStatus;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code forwarder} health contributor: UP while the spool accepts records (or the forwarder is disabled
 * by configuration), OUT_OF_SERVICE when it does not (the spool full, the forwarder closed) or Kafka fenced
 * it. Kafka being away is not a fault of the application: the spool takes the records meanwhile, so it stays
 * UP, and the details say so. Details: state, backlog, the age of the oldest unforwarded record, counts, the
 * last delivery error (never a secret: the forwarder's messages hold none).
 */
public class ForwarderHealthIndicator extends AbstractHealthIndicator {

    private static final String OLDEST_AGE = "forwarder_spool_oldest_unforwarded_age_seconds";

    private final Forwarder forwarder;

    public ForwarderHealthIndicator(Forwarder forwarder) {
        super("forwarder health check failed");
        this.forwarder = forwarder;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        ForwarderStatus status = forwarder.status();
        boolean disabled = status.state() == ForwarderStatus.State.DISABLED;
        if (status.state() == ForwarderStatus.State.FENCED || (!disabled && !forwarder.acceptsRecords())) {
            builder.outOfService();
        } else {
            builder.up();
        }
        builder.withDetail("state", status.state().name())
                .withDetail("acceptsRecords", forwarder.acceptsRecords())
                .withDetail("backlog", status.backlog())
                .withDetail("delivered", status.delivered())
                .withDetail("dropped", status.droppedTotal())
                .withDetail("deadLettered", status.deadLettered())
                .withDetail("lost", status.lost());
        Gauge<?> oldest = forwarder.metricRegistry().getGauges().get(OLDEST_AGE);
        if (oldest != null && oldest.getValue() instanceof Number age) {
            builder.withDetail("oldestUnforwardedAgeSeconds", age.doubleValue());
        }
        if (status.lastError() != null) {
            builder.withDetail("lastError", status.lastError());
        }
    }
}
