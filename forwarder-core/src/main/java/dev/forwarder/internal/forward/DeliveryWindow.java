package dev.forwarder.internal.forward;

import dev.forwarder.internal.kafka.DeliveryObserver;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
 * <p>A callback of an attempt that is no longer its slot's current one (the slot was sent again, or left
 * the window) changes nothing: completion state lives with the attempt, and a slot reads only its current
 * one. Created and read by the forwarder thread; callbacks come from the producer's I/O thread.
 */
final class DeliveryWindow {

    private final int capacity;
    private final DeliveryObserver observer;
    private final java.util.function.LongSupplier nanoClock;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    /** Raised by a callback whose failure needs a resend (anything but a record's own fault). */
    private volatile boolean resendNeeded;

    /** @param nanoClock the agent's clock, read by callbacks to stamp when an attempt completed */
    DeliveryWindow(int capacity, DeliveryObserver observer, java.util.function.LongSupplier nanoClock) {
        this.capacity = capacity;
        this.observer = observer;
        this.nanoClock = nanoClock;
    }

    /** One spool record in the window. */
    static final class Slot {
        final long index;
        /** The record, or null for a corrupt one (settled as it is read). */
        final SpoolRecord.Entry entry;
        private Attempt attempt;

        private Slot(long index, SpoolRecord.Entry entry) {
            this.index = index;
            this.entry = entry;
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

    boolean full() {
        return slots.size() >= capacity;
    }

    int size() {
        return slots.size();
    }

    boolean isEmpty() {
        return slots.isEmpty();
    }

    /** Adds a record read from the spool and returns the attempt to hand to the producer. */
    Attempt add(SpoolRecord.Entry entry, long nowNanos, Object producer) {
        Slot slot = new Slot(entry.index(), entry);
        slots.addLast(slot);
        return resend(slot, nowNanos, producer);
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
        }
        return head;
    }

    /** Removes and returns the slots before {@code index}, in order (making room: their roll file is gone). */
    List<Slot> removeBefore(long index) {
        List<Slot> removed = new ArrayList<>();
        while (!slots.isEmpty() && slots.peekFirst().index < index) {
            removed.add(slots.pollFirst());
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
}
