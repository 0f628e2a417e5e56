package dev.forwarder.internal.kafka;

import dev.forwarder.internal.journal.SpoolRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * One spool record between send and settlement. Created and removed by the forwarder thread only; the
 * producer's I/O thread completes it through {@link #onCompletion}. {@code state} is volatile and written
 * after {@code error}, so a reader that sees FAILED also sees the error.
 */
final class InFlight implements Callback {

    static final int PENDING = 0;
    /** Kafka acknowledged it. */
    static final int ACKED = 1;
    /** Kafka (or send) refused it; see {@link #error}. */
    static final int FAILED = 2;
    /** Nothing to send: corrupt, or known to be delivered already. Counts as settled. */
    static final int SKIPPED = 3;

    final long index;
    final SpoolRecord.Entry entry;
    final long sentNanos;
    private final long sentSystemNanos;
    private final Runnable onRetriableFailure;
    private final DeliveryObserver observer;
    private volatile Exception error;
    private volatile int state;

    InFlight(SpoolRecord.Entry entry, long sentNanos, Runnable onRetriableFailure, DeliveryObserver observer) {
        this.index = entry.index();
        this.entry = entry;
        this.sentNanos = sentNanos;
        this.sentSystemNanos = System.nanoTime();
        this.onRetriableFailure = onRetriableFailure;
        this.observer = observer;
    }

    private InFlight(long index, int state) {
        this.index = index;
        this.entry = null;
        this.sentNanos = 0;
        this.sentSystemNanos = 0;
        this.onRetriableFailure = null;
        this.observer = DeliveryObserver.NONE;
        this.state = state;
    }

    /** A corrupt record: settled, nothing sent. */
    static InFlight skipped(long index) {
        return new InFlight(index, SKIPPED);
    }

    /** A record Kafka acknowledged before a rewind: settled, not sent again. */
    static InFlight acknowledged(long index) {
        return new InFlight(index, ACKED);
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
        if (exception == null) {
            state = ACKED;
            observer.acknowledged(entry.type(), System.nanoTime() - sentSystemNanos);
            return;
        }
        error = exception;
        state = FAILED;
        observer.failed(entry.type(), exception);
        if (!Failures.isPermanent(exception)) {
            onRetriableFailure.run();
        }
    }

    int state() {
        return state;
    }

    Exception error() {
        return error;
    }

    boolean settled() {
        return state != PENDING;
    }
}
