package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.SpoolRecord;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * {@code delivery = exactly_once}: the records of the Kafka transaction being built, in spool order, kept
 * until it commits so that an aborted transaction is sent again from memory (the spool is read once). A
 * record is sent, corrupt (skipped; settles with the transaction) or dead (Kafka refused it for good: in the
 * dead-letter spool, not sent again). Forwarder thread only, except the send callbacks, which record the
 * first failure.
 *
 * <p>Its states, after Kafka's {@code TransactionManager}, with the transitions {@link #to} allows:
 *
 * <pre>
 *   EMPTY ──add──▶ COLLECTING ──begin──▶ IN_TRANSACTION ──commit, clear──▶ EMPTY
 *     └─────────────begin────────────────▲      │ abort, producer lost
 *                 COLLECTING, IN_TRANSACTION ───┴──▶ ABORTED ──begin (resend)──▶ IN_TRANSACTION
 *   any state ──clear──▶ EMPTY     ABORTED ──resent (begin failed)──▶ COLLECTING
 * </pre>
 *
 * COLLECTING holds records but has begun no Kafka transaction (only corrupt or dead records so far, or a
 * begin that failed); IN_TRANSACTION has called {@code beginTransaction} on the current producer; ABORTED
 * holds records that must be sent again, in a new transaction, before any new one is read.
 */
final class Transaction {

    enum State {
        EMPTY,
        COLLECTING,
        IN_TRANSACTION,
        ABORTED
    }

    private static final Map<State, Set<State>> NEXT = Map.of(
            State.EMPTY, EnumSet.of(State.COLLECTING, State.IN_TRANSACTION),
            State.COLLECTING, EnumSet.of(State.IN_TRANSACTION, State.ABORTED, State.EMPTY),
            State.IN_TRANSACTION, EnumSet.of(State.ABORTED, State.EMPTY),
            State.ABORTED, EnumSet.of(State.IN_TRANSACTION, State.COLLECTING, State.EMPTY));

    /** One spool record of the transaction. */
    static final class Item implements Callback {
        final long index;
        /** Null for a corrupt record. */
        final SpoolRecord.Entry entry;
        /** Kafka refused it for good: it is in the dead-letter spool and is not sent again. */
        boolean deadLettered;

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

        /** Whether it is sent (neither corrupt nor dead-lettered). */
        boolean sendable() {
            return entry != null && !deadLettered;
        }

        /** Called by the producer (its I/O thread, or the caller for errors found before sending). */
        @Override
        public void onCompletion(RecordMetadata metadata, Exception error) {
            if (error != null) {
                owner.failure.compareAndSet(null, new Failure(this, error));
            }
        }
    }

    /** The first failure of the transaction: of a record's send (item set), or of the transaction itself. */
    record Failure(Item item, Exception error) {}

    private final List<Item> items = new ArrayList<>();
    /** Bytes of the items' records (payload and key). */
    private long bytes;

    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private State state = State.EMPTY;
    private long startNanos;
    private long beganNanos;

    State state() {
        return state;
    }

    private void to(State next) {
        if (next != state && !NEXT.get(state).contains(next)) {
            throw new IllegalStateException("transaction: no transition from " + state + " to " + next);
        }
        state = next;
    }

    Item add(SpoolRecord.Entry entry, long nowNanos) {
        return add(entry.index(), entry, nowNanos);
    }

    Item addCorrupt(long index, long nowNanos) {
        return add(index, null, nowNanos);
    }

    private Item add(long index, SpoolRecord.Entry entry, long nowNanos) {
        if (items.isEmpty()) {
            startNanos = nowNanos;
            to(State.COLLECTING);
        }
        Item item = new Item(this, index, entry);
        items.add(item);
        bytes += DeliveryWindow.recordBytes(entry);
        return item;
    }

    List<Item> items() {
        return items;
    }

    int size() {
        return items.size();
    }

    /** Bytes of the items' records (payload and key). */
    long bytes() {
        return bytes;
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

    /** Whether beginTransaction() was called on the current producer for these items. */
    boolean inTransaction() {
        return state == State.IN_TRANSACTION;
    }

    /** beginTransaction(), called at {@code nowNanos}, returned for the items held. */
    void begun(long nowNanos) {
        beganNanos = nowNanos;
        to(State.IN_TRANSACTION);
    }

    /** When beginTransaction() was last called for these items (Kafka's time-out runs from a little later). */
    long beganNanos() {
        return beganNanos;
    }

    Failure failure() {
        return failure.get();
    }

    /** A failure of the transaction itself (begin, commit, a send that threw before any callback). */
    void failed(Exception error) {
        failure.compareAndSet(null, new Failure(null, error));
    }

    /** After an abort, or the producer's loss: every sendable item goes again, in a new transaction. */
    void toResend() {
        failure.set(null);
        to(items.isEmpty() ? State.EMPTY : State.ABORTED);
    }

    /** The items must be sent again (in a new transaction) before any new one is read. */
    boolean resendNeeded() {
        return state == State.ABORTED;
    }

    /** The items were sent again (or the begin for them failed, and the failure says so). */
    void resent() {
        if (state == State.ABORTED) {
            to(State.COLLECTING);
        }
    }

    /**
     * Forgets the items before {@code index} (their roll file was discarded to make room); only between
     * transactions, never while one is open in Kafka.
     */
    void removeBefore(long index) {
        if (state == State.IN_TRANSACTION) {
            throw new IllegalStateException("transaction: cannot forget records of an open transaction");
        }
        items.removeIf(item -> item.index < index);
        bytes = 0;
        for (Item item : items) {
            bytes += DeliveryWindow.recordBytes(item.entry);
        }
        if (items.isEmpty()) {
            clear();
        }
    }

    /** Committed (or given up): empty for the next transaction. */
    void clear() {
        items.clear();
        bytes = 0;
        failure.set(null);
        to(State.EMPTY);
    }

    @Override
    public String toString() {
        return "Transaction[" + state + ", " + items.size() + " records"
                + (items.isEmpty() ? "" : ", " + items.get(0).index + ".." + lastIndex())
                + (failure.get() != null ? ", failed: " + failure.get().error() : "") + "]";
    }
}
