package dev.forwarder.internal.forward;

import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;
import org.agrona.collections.Long2ObjectHashMap;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The records read from the spool and not yet settled, in spool order: the ordered-acknowledgement part of
 * the forwarder (Vector's {@code OrderedAcknowledgements}, Kafka's in-flight batches).
 *
 * <p>Each {@link Slot} is one spool record; each send of it is an {@link Attempt}, the producer's callback.
 * Acknowledgements arrive out of order (different partitions); the checkpoint may only pass the longest
 * settled prefix, which {@link #pollSettledHead} hands out one slot at a time. A slot keeps its record's
 * bytes until it leaves the window, so a failed send is sent again from here: the spool is never read
 * twice, and a slot acknowledged once stays acknowledged through any number of resends of its neighbours.
 *
 * <p><b>Per-key order.</b> A record whose key (within its data type) has an earlier record in the window
 * that Kafka has not acknowledged yet is <em>held</em>: added, but not sent, until that one is settled.
 * So a later record of a key can never reach the topic before an earlier one that failed and is sent
 * again (Kafka keeps a partition's order only for what it retries itself, not for a send that failed back
 * to us after an expiry or a topic refusal). Keys are mostly unique (the record's id), so this rarely holds
 * anything; a key shared by many records is sent one at a time.
 *
 * <p>A callback of an attempt that is no longer its slot's current one (the slot was sent again, or left
 * the window) changes nothing: completion state lives with the attempt, and a slot reads only its current
 * one. Created and read by the forwarder thread; callbacks come from the producer's I/O thread.
 */
final class DeliveryWindow {

    private final int capacity;
    /** Bytes of records the window may hold (one record more at most: it is never full while empty). */
    private final long maxBytes;
    /** Bytes of the records in the window (payload and key). */
    private long bytes;

    private final DeliveryObserver observer;
    private final LongSupplier nanoClock;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    /**
     * The latest slot of each key still in the window, by a 64-bit hash of the type and the key's bytes: what a
     * new record waits for. Two keys of one hash would only make the later record wait for the other key's
     * (order kept all the same); a map of strings cost a fifth of the forwarder thread in a drain (JFR: the
     * key decoded and joined to its type, its hash, a node per record).
     */
    private final Long2ObjectHashMap<Slot> lastOfKey = new Long2ObjectHashMap<>();
    /** Held slots, in spool order. */
    private final ArrayDeque<Slot> held = new ArrayDeque<>();
    /** Raised by a callback whose failure needs a resend (anything but a record's own fault). */
    private volatile boolean resendNeeded;

    /** @param nanoClock the agent's clock, read by callbacks to stamp when an attempt completed */
    DeliveryWindow(int capacity, long maxBytes, DeliveryObserver observer, LongSupplier nanoClock) {
        this.capacity = capacity;
        this.maxBytes = maxBytes;
        this.observer = observer;
        this.nanoClock = nanoClock;
    }

    /** One spool record in the window. */
    static final class Slot {
        final long index;
        /** The record, or null for a corrupt one (settled as it is read). */
        final SpoolRecord.Entry entry;

        /** Whether the record has a key (only keyed records keep an order); its hash in {@link #orderHash}. */
        final boolean keyed;

        final long orderHash;
        /** What the record takes in the window: payload and key. */
        final int bytes;

        private Attempt attempt;
        /** The earlier slot of the same key this one waits for, while held; else null. */
        private Slot waitsFor;

        private boolean gone;

        private Slot(long index, SpoolRecord.Entry entry) {
            this.index = index;
            this.entry = entry;
            this.bytes = recordBytes(entry);
            this.keyed = entry != null && entry.keyBytes() != null;
            this.orderHash = keyed ? orderHash(entry.type().ordinal(), entry.keyBytes()) : 0;
        }

        boolean held() {
            return waitsFor != null;
        }

        /** Settled for the purpose of ordering: acknowledged, a dead letter, or out of the window. */
        private boolean releasesFollowers() {
            return gone
                    || acknowledged()
                    || (attempt != null && attempt.failed() && attempt.kind() == Failures.Kind.RECORD);
        }

        boolean corrupt() {
            return entry == null;
        }

        Attempt attempt() {
            return attempt;
        }

        boolean acknowledged() {
            return attempt != null && attempt.state == Attempt.ACKED;
        }

        boolean settled() {
            return entry == null || (attempt != null && attempt.state != Attempt.PENDING);
        }
    }

    /** One send of a slot's record; the producer's callback. */
    final class Attempt implements Callback {
        static final int PENDING = 0;
        static final int ACKED = 1;
        static final int FAILED = 2;

        final Slot slot;
        final long sentNanos;
        /** The producer this attempt was handed to: only its own failures say anything about it. */
        final Object producer;

        private final long sentSystemNanos = System.nanoTime();
        private volatile Exception error;
        private volatile long completedNanos;
        private volatile int state;

        private Attempt(Slot slot, long sentNanos, Object producer) {
            this.slot = slot;
            this.sentNanos = sentNanos;
            this.producer = producer;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception exception) {
            if (state != PENDING) {
                return;
            }
            if (exception == null) {
                state = ACKED;
                observer.acknowledged(slot.entry.type(), System.nanoTime() - sentSystemNanos);
                return;
            }
            error = exception; // before state: a reader that sees FAILED sees the error and the time
            completedNanos = nanoClock.getAsLong();
            state = FAILED;
            observer.failed(slot.entry.type(), exception);
            Failures.Kind kind = Failures.classify(exception);
            if (kind == Failures.Kind.TOPIC) {
                observer.topicRefused(slot.entry.type());
            }
            if (kind != Failures.Kind.RECORD) {
                resendNeeded = true;
            }
        }

        /** send() threw instead of calling back. */
        void failedToSend(Exception e) {
            onCompletion(null, e);
        }

        boolean pending() {
            return state == PENDING;
        }

        boolean failed() {
            return state == FAILED;
        }

        Exception error() {
            return error;
        }

        /** How long the producer kept this attempt before it called back with a failure. */
        long waitedNanos() {
            return completedNanos - sentNanos;
        }

        Failures.Kind kind() {
            return Failures.classify(error);
        }
    }

    /** Full: batch_size x 5 records, or half the producer's buffer.memory of them (a record more at most). */
    boolean full() {
        return slots.size() >= capacity || (bytes >= maxBytes && !slots.isEmpty());
    }

    /** Bytes of the records in the window. */
    long bytes() {
        return bytes;
    }

    static int recordBytes(SpoolRecord.Entry entry) {
        if (entry == null) {
            return 0;
        }
        return entry.payload().length + (entry.keyBytes() == null ? 0 : entry.keyBytes().length);
    }

    int size() {
        return slots.size();
    }

    boolean isEmpty() {
        return slots.isEmpty();
    }

    /**
     * Adds a record read from the spool; returns the attempt to hand to the producer, or null if the record
     * is held behind an earlier, unacknowledged record of its key.
     */
    Attempt add(SpoolRecord.Entry entry, long nowNanos, Object producer) {
        Slot slot = new Slot(entry.index(), entry);
        slots.addLast(slot);
        bytes += slot.bytes;
        if (slot.keyed) {
            Slot before = lastOfKey.put(slot.orderHash, slot);
            if (before != null && !before.releasesFollowers()) {
                slot.waitsFor = before;
                held.addLast(slot);
                return null;
            }
        }
        return resend(slot, nowNanos, producer);
    }

    /** The held slots whose predecessor is now settled, in order; they are no longer held. */
    List<Slot> release() {
        List<Slot> out = new ArrayList<>();
        for (Iterator<Slot> it = held.iterator(); it.hasNext(); ) {
            Slot s = it.next();
            if (s.waitsFor.releasesFollowers()) {
                s.waitsFor = null;
                it.remove();
                out.add(s);
            }
        }
        return out;
    }

    private void left(Slot slot) {
        slot.gone = true;
        bytes -= slot.bytes;
        if (slot.keyed && lastOfKey.get(slot.orderHash) == slot) {
            lastOfKey.remove(slot.orderHash);
        }
    }

    /** FNV-1a over the type and the key's bytes, then MurmurHash3's finaliser to spread it over 64 bits. */
    static long orderHash(int type, byte[] key) {
        long h = 0xcbf29ce484222325L ^ type;
        h *= 0x100000001b3L;
        for (byte b : key) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** Adds a corrupt record: settled at once, nothing to send. */
    void addCorrupt(long index) {
        slots.addLast(new Slot(index, null));
    }

    /** A new attempt for a slot: the old one's callback is ignored from now on. */
    Attempt resend(Slot slot, long nowNanos, Object producer) {
        Attempt attempt = new Attempt(slot, nowNanos, producer);
        slot.attempt = attempt;
        return attempt;
    }

    /**
     * The head slot if it is settled in a way the checkpoint may pass (acknowledged, corrupt, or failed for a
     * reason of its own that makes it a dead letter); null otherwise. Does not remove it.
     */
    Slot settledHead() {
        Slot head = slots.peekFirst();
        if (head == null || !head.settled()) {
            return null;
        }
        if (head.attempt != null && head.attempt.failed() && head.attempt.kind() != Failures.Kind.RECORD) {
            return null; // waits for a resend
        }
        return head;
    }

    Slot pollSettledHead() {
        Slot head = settledHead();
        if (head != null) {
            slots.pollFirst();
            left(head);
        }
        return head;
    }

    /** Removes and returns the slots before {@code index}, in order (making room: their roll file is gone). */
    List<Slot> removeBefore(long index) {
        List<Slot> removed = new ArrayList<>();
        while (!slots.isEmpty() && slots.peekFirst().index < index) {
            Slot s = slots.pollFirst();
            left(s);
            held.remove(s);
            removed.add(s);
        }
        return removed;
    }

    boolean resendNeeded() {
        return resendNeeded;
    }

    /** Whether any send is still waiting for the producer to call back. */
    boolean anyPending() {
        for (Slot s : slots) {
            if (s.attempt != null && s.attempt.pending()) {
                return true;
            }
        }
        return false;
    }

    /** The oldest attempt still waiting for its callback, or null. */
    Attempt oldestPending() {
        Attempt oldest = null;
        for (Slot s : slots) {
            Attempt a = s.attempt;
            if (a != null && a.pending() && (oldest == null || a.sentNanos < oldest.sentNanos)) {
                oldest = a;
            }
        }
        return oldest;
    }

    /** The first failure that needs a resend, or null. */
    Attempt firstResendable() {
        for (Slot s : slots) {
            Attempt a = s.attempt;
            if (a != null && a.failed() && a.kind() != Failures.Kind.RECORD) {
                return a;
            }
        }
        return null;
    }

    /**
     * The slots to send again, in spool order: those whose last attempt failed for a reason other than the
     * record's own. Clears the resend flag: a failure of the new attempts raises it again.
     */
    List<Slot> takeResendable() {
        resendNeeded = false;
        List<Slot> out = new ArrayList<>();
        for (Slot s : slots) {
            Attempt a = s.attempt;
            if (a != null && a.failed() && a.kind() != Failures.Kind.RECORD) {
                out.add(s);
            }
        }
        return out;
    }

    /** Every failed attempt in the window, for deciding whether the producer must be replaced. */
    List<Attempt> failedAttempts() {
        List<Attempt> out = new ArrayList<>();
        for (Slot s : slots) {
            if (s.attempt != null && s.attempt.failed()) {
                out.add(s.attempt);
            }
        }
        return out;
    }

    /** The window's slots in a line, for failure messages of tests. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (Slot s : slots) {
            Attempt a = s.attempt;
            b.append(s.index & 0xffff)
                    .append(
                            s.corrupt()
                                    ? ":corrupt"
                                    : s.held()
                                            ? ":held(" + (s.waitsFor.index & 0xffff) + ")"
                                            : a == null
                                                    ? ":unsent"
                                                    : a.pending()
                                                            ? ":pending"
                                                            : a.failed() ? ":failed(" + a.kind() + ")" : ":acked")
                    .append(' ');
        }
        return b.append(']').toString();
    }
}
