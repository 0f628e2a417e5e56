package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.SpoolRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;

/**
 * {@code delivery = exactly_once}: the records of the Kafka transaction being built, in spool order, kept
 * until it commits so that an aborted transaction is sent again from memory (the spool is read once). A
 * record is sent, corrupt (skipped; settles with the transaction) or dead (Kafka refused it for good: in the
 * dead-letter spool, not sent again). Forwarder thread only, except the send callbacks, which record the
 * first failure.
 */
final class Transaction {

    /** One spool record of the transaction. */
    static final class Item implements Callback {
        final long index;
        /** Null for a corrupt record. */
        final SpoolRecord.Entry entry;

        boolean dead;
        long sentNanos;
        private final Transaction owner;

        private Item(Transaction owner, long index, SpoolRecord.Entry entry) {
            this.owner = owner;
            this.index = index;
            this.entry = entry;
        }

        boolean corrupt() {
            return entry == null;
        }

        /** Called by the producer (its I/O thread, or the caller for errors found before sending). */
        @Override
        public void onCompletion(org.apache.kafka.clients.producer.RecordMetadata metadata, Exception error) {
            if (error != null) {
                owner.failure.compareAndSet(null, new Failure(this, error));
            }
        }
    }

    /** The first failure of the transaction: of a record's send (item set), or of the transaction itself. */
    record Failure(Item item, Exception error) {}

    private final List<Item> items = new ArrayList<>();
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    /** Whether beginTransaction() was called on the current producer for these items. */
    private boolean begun;
    /** The items must be sent again (in a new transaction) before any new one is read. */
    private boolean resend;

    private long startNanos;

    Item add(SpoolRecord.Entry entry, long nowNanos) {
        return add(entry.index(), entry, nowNanos);
    }

    Item addCorrupt(long index, long nowNanos) {
        return add(index, null, nowNanos);
    }

    private Item add(long index, SpoolRecord.Entry entry, long nowNanos) {
        if (items.isEmpty()) {
            startNanos = nowNanos;
        }
        Item item = new Item(this, index, entry);
        items.add(item);
        return item;
    }

    List<Item> items() {
        return items;
    }

    int size() {
        return items.size();
    }

    boolean isEmpty() {
        return items.isEmpty();
    }

    long lastIndex() {
        return items.get(items.size() - 1).index;
    }

    long startNanos() {
        return startNanos;
    }

    boolean begun() {
        return begun;
    }

    void begun(boolean begun) {
        this.begun = begun;
    }

    Failure failure() {
        return failure.get();
    }

    /** A failure of the transaction itself (begin, commit, a send that threw before any callback). */
    void failed(Exception error) {
        failure.compareAndSet(null, new Failure(null, error));
    }

    /** After an abort: send every item that is not corrupt or dead again, in a new transaction. */
    void toResend() {
        failure.set(null);
        begun = false;
        resend = !items.isEmpty();
    }

    boolean resendNeeded() {
        return resend;
    }

    void resent() {
        resend = false;
    }

    /** Committed (or given up): empty for the next transaction. */
    void clear() {
        items.clear();
        failure.set(null);
        begun = false;
        resend = false;
    }

    @Override
    public String toString() {
        return "Transaction[" + items.size() + " records"
                + (items.isEmpty() ? "" : ", " + items.get(0).index + ".." + lastIndex()) + (begun ? ", begun" : "")
                + (resend ? ", to resend" : "")
                + (failure.get() != null ? ", failed: " + failure.get().error() : "")
                + "]";
    }
}
