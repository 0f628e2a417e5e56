package dev.forwarder.internal.forward;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code delivery = at_least_once}: each record read from the spool is sent on its own into the
 * {@link DeliveryWindow} and settles at its acknowledgement, in spool order. A failed send is sent again
 * from the window after a back-off (the spool is read once); a record whose key has an earlier one still
 * unacknowledged is held until that one settles. The producer is replaced when it failed, when it kept a
 * record until {@code delivery.timeout.ms} (KAFKA-14359), or when it did not call back at all within
 * {@code delivery.timeout.ms} + {@code request_timeout_ms}; only failures of the current producer count.
 * Forwarder thread only; the producer's I/O thread completes the window's attempts.
 */
final class AtLeastOnceDelivery implements Delivery {

    private static final Logger LOG = LoggerFactory.getLogger(AtLeastOnceDelivery.class);

    private final DeliveryWindow window;
    private final ProducerConnection connection;
    private final SpoolReader reader;
    private final SpoolMessages messages;
    private final Settler settler;
    private final int batchSize;
    private final long stallNanos;
    private final long deliveryTimeoutNanos;
    /**
     * How often the window is searched for a stalled send: the search reads every slot, and done at every step
     * it took 13% of the forwarder thread's time in a backlog's drain (JFR), for a threshold of minutes.
     */
    private final long stallCheckEveryNanos;

    private long lastStallCheck;
    private boolean stallChecked;
    /** The current producer failed or stalled: replace it before sending again. */
    private String producerBroken;

    private boolean caughtUp;

    AtLeastOnceDelivery(
            ForwarderConfig.Kafka kafka,
            ProducerConnection connection,
            SpoolReader reader,
            SpoolMessages messages,
            Settler settler,
            ForwarderWiring wiring) {
        this.window = new DeliveryWindow(
                ProducerSettings.inFlightWindow(kafka),
                ProducerSettings.inFlightBytes(kafka),
                wiring.observer(),
                wiring.nanoClock());
        this.connection = connection;
        this.reader = reader;
        this.messages = messages;
        this.settler = settler;
        this.batchSize = kafka.batchSize();
        this.deliveryTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(ProducerSettings.deliveryTimeoutMs(kafka));
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallTimeoutMs(kafka));
        this.stallCheckEveryNanos = Math.min(TimeUnit.MILLISECONDS.toNanos(100), stallNanos / 16);
    }

    /**
     * How long a send may wait for its callback before the producer is presumed stuck: the producer's own
     * delivery.timeout.ms (it must call back by then, with an expiry if nothing else) plus a request time-out.
     * Never shorter: an ISR shrink can hold acks=all for replica.lag.time.max.ms (30 s), which is normal.
     */
    private static long stallTimeoutMs(ForwarderConfig.Kafka kafka) {
        return ProducerSettings.deliveryTimeoutMs(kafka) + kafka.requestTimeoutMs() + kafka.lingerMs();
    }

    @Override
    public Outcome start(long nowNanos) {
        return Outcome.READY_TO_FORWARD;
    }

    @Override
    public Outcome step(long now, boolean draining) {
        if (window.resendNeeded()) {
            return backOff(null);
        }
        if (stalled(now)) {
            return replaceStalledProducer(now);
        }
        return send(now);
    }

    /** Pops settled records off the head of the window, counts each, and advances the checkpoint over them. */
    @Override
    public int settle() {
        int settled = 0;
        int delivered = 0;
        long advancedTo = -1;
        DeliveryWindow.Slot head;
        while ((head = window.pollSettledHead()) != null) {
            if (head.acknowledged()) {
                delivered++; // counted once for the run: a volatile add per record was 3% of the thread
            } else if (head.corrupt()) {
                settler.countCorrupt();
            } else {
                settler.deadLetter(head.entry, head.attempt().error()); // failed for a reason of its own
            }
            advancedTo = head.index;
            settled++;
        }
        if (settled > 0) {
            settler.countDelivered(delivered);
            settler.advance(advancedTo);
        }
        return settled;
    }

    private Outcome send(long now) {
        Producer<byte[], byte[]> producer = connection.producer();
        int sent = 0;
        List<DeliveryWindow.Slot> released = window.release();
        if (!released.isEmpty()) {
            sent += released.size();
            if (!produceAll(released, now, producer)) {
                return backOff(null).plus(sent);
            }
        }
        while (sent < batchSize && !window.full()) {
            SpoolRecord.Entry entry = reader.next(now);
            if (entry == null) {
                caughtUp = true;
                break;
            }
            caughtUp = false;
            sent++;
            DeliveryWindow.Attempt attempt = window.add(entry, now, producer);
            if (attempt != null && !produce(attempt, producer)) {
                return backOff(null).plus(sent);
            }
            if (window.resendNeeded()) {
                break;
            }
        }
        return Outcome.work(sent);
    }

    /**
     * Sends the slots in order. send() may fail before it returns (it threw, or called back at once: no
     * metadata within max.block.ms): then it stops, and the slots not sent yet get a failed attempt with the
     * same cause, so that they are sent again with the others (and no one waits max.block.ms for each).
     *
     * @return false if a send failed
     */
    private boolean produceAll(List<DeliveryWindow.Slot> slots, long now, Producer<byte[], byte[]> producer) {
        for (int i = 0; i < slots.size(); i++) {
            DeliveryWindow.Attempt attempt = window.resend(slots.get(i), now, producer);
            if (!produce(attempt, producer) || (attempt.failed() && attempt.kind() != Failures.Kind.RECORD)) {
                for (int j = i + 1; j < slots.size(); j++) {
                    window.resend(slots.get(j), now, producer).failedToSend(attempt.error());
                }
                return false;
            }
        }
        return true;
    }

    /** Hands one attempt to the producer; false if send() threw (the attempt is then failed with it). */
    private boolean produce(DeliveryWindow.Attempt attempt, Producer<byte[], byte[]> producer) {
        try {
            producer.send(messages.of(attempt.slot.entry), attempt);
            return true;
        } catch (RuntimeException thrown) {
            // Thrown, not called back: the producer is closed or broken, metadata did not come within
            // max.block.ms, or we were interrupted.
            attempt.failedToSend(thrown);
            return false;
        }
    }

    /** Whether a send has waited past the stall threshold, looked at no more than every stallCheckEveryNanos. */
    private boolean stalled(long now) {
        if (stallChecked && now - lastStallCheck < stallCheckEveryNanos) {
            return false;
        }
        stallChecked = true;
        lastStallCheck = now;
        DeliveryWindow.Attempt oldest = window.oldestPending();
        return oldest != null && now - oldest.sentNanos > stallNanos;
    }

    /** Fails every in-flight send by closing the producer at once; recover() then resends with a new one. */
    private Outcome replaceStalledProducer(long now) {
        DeliveryWindow.Attempt oldest = window.oldestPending();
        String why = "no callback for record " + oldest.slot.index + " in "
                + TimeUnit.NANOSECONDS.toSeconds(now - oldest.sentNanos)
                + " s (longer than delivery.timeout.ms); replacing the producer";
        LOG.warn(why);
        producerBroken = why;
        connection.discard(why); // its sends in flight fail now
        return backOff(why);
    }

    /** The first failed send says why (else {@code otherwise}, else the last error stays). */
    private Outcome backOff(String otherwise) {
        DeliveryWindow.Attempt first = window.firstResendable();
        return Outcome.backOff(
                first != null ? describe(first) : otherwise, "send failed", "sending the failed records again");
    }

    private static String describe(DeliveryWindow.Attempt failed) {
        Exception e = failed.error();
        if (failed.kind() == Failures.Kind.TOPIC) {
            return "Kafka refuses the topic of record " + failed.slot.index + " (" + Failures.describe(e)
                    + "); fix the topic's ACL or name: the records wait in the spool";
        }
        return Failures.describe(e);
    }

    /**
     * Waits for every in-flight send to complete, replaces the producer if it is broken, then sends the
     * failed records again, in spool order, from the window.
     */
    @Override
    public Outcome recover(long now) {
        if (stalled(now)) {
            return replaceStalledProducer(now);
        }
        if (window.anyPending()) {
            return Outcome.IDLE;
        }
        settle();
        Producer<byte[], byte[]> current = connection.producer();
        for (DeliveryWindow.Attempt a : window.failedAttempts()) {
            if (a.producer != current) {
                continue; // a failure of a producer already replaced says nothing about this one
            }
            Failures.Kind kind = a.kind();
            // A producer that failed, or that kept a record until delivery.timeout.ms (KAFKA-14359: an idempotent
            // producer can retry OUT_OF_ORDER_SEQUENCE_NUMBER until then after a broker restart), is replaced.
            if (kind == Failures.Kind.PRODUCER
                    || kind == Failures.Kind.FENCED
                    || (kind == Failures.Kind.RETRIABLE && a.waitedNanos() >= deliveryTimeoutNanos)) {
                producerBroken = describe(a);
            }
        }
        if (producerBroken != null) {
            connection.discard(producerBroken);
            producerBroken = null;
        }
        Outcome notReady = connection.notReady();
        if (notReady != null) {
            return notReady;
        }
        List<DeliveryWindow.Slot> resend = window.takeResendable();
        if (!produceAll(resend, now, connection.producer())) {
            return backOff(null);
        }
        caughtUp = false;
        return Outcome.forwarding("sent " + resend.size() + " records again");
    }

    @Override
    public void corrupt(long index, long nowNanos) {
        window.addCorrupt(index);
    }

    @Override
    public boolean atBoundary() {
        return true;
    }

    @Override
    public Outcome yieldForRoom(long nowNanos) {
        return Outcome.IDLE; // always at a boundary
    }

    @Override
    public long forgetBefore(long nextIndex) {
        long counted = 0;
        for (DeliveryWindow.Slot slot : window.removeBefore(nextIndex)) {
            if (slot.acknowledged()) {
                settler.deliveredInDiscardedFile(slot.index);
                counted++;
            } else if (slot.corrupt()) {
                settler.countCorrupt();
                counted++;
            }
        }
        return counted;
    }

    @Override
    public int inFlight() {
        return window.size();
    }

    @Override
    public boolean drained() {
        return caughtUp && window.isEmpty();
    }

    @Override
    public boolean awaitsAcknowledgements() {
        return !window.isEmpty();
    }

    @Override
    public void close() {
        // nothing of its own: the agent closes the producer, and what it completes settles after
    }

    @Override
    public String toString() {
        return "at_least_once " + window;
    }
}
