package dev.forwarder.internal.forward;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.kafka.Positions;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolIdentity;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code delivery = exactly_once}: records go in Kafka transactions that also write the spool position
 * ({@code {prefix}_forwarder_positions}, key = source id), so a record's write and the position past it
 * commit together; records settle at the commit. A transaction commits once it holds {@code batch_size}
 * records, or records taking half the producer's {@code buffer.memory}, or {@code linger_ms} passed since
 * its first (at once when draining and caught up).
 *
 * <p>A new producer calls {@code initTransactions} (which ends a transaction an earlier producer of the
 * transactional id left open), then reads Kafka's committed position: forwarding resumes right after it, and
 * the local checkpoint follows it. A record Kafka refuses for good is dead-lettered and the transaction is
 * aborted and sent again without it; any other failure (the cluster, a time-out, a commit in doubt) drops the
 * producer and backs off, and the position read by the next producer says whether the commit in doubt took
 * effect. Fencing (another producer of this transactional id) ends forwarding. Forwarder thread only.
 */
final class ExactlyOnceDelivery implements Delivery {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceDelivery.class);

    private final Transaction txn = new Transaction();
    private final Spool spool;
    private final Checkpoint checkpoint;
    private final ProducerConnection connection;
    private final SpoolReader reader;
    private final SpoolMessages messages;
    private final Settler settler;
    private final SourceFork fork;
    private final ForwarderWiring wiring;
    private final DeliveryObserver observer;
    private final LongSupplier nanoClock;
    private final String positionsTopic;
    private final int batchSize;
    /** A transaction commits once its records take this many bytes, whatever their count. */
    private final long maxTransactionBytes;

    private final long lingerNanos;
    private final long transactionTimeoutNanos;
    /** Records this process dead-lettered in a transaction that was then aborted: not sent again. */
    private final Set<Long> deadLetteredHere = new HashSet<>();
    /** The last spool index Kafka has committed for this source, as this process knows it. */
    private long committedPosition = Positions.NONE;

    private boolean caughtUp;
    /** Records settled by commits since the agent last asked. */
    private int settledSinceAsked;

    ExactlyOnceDelivery(
            ForwarderConfig.Kafka kafka,
            Spool spool,
            Checkpoint checkpoint,
            ProducerConnection connection,
            SpoolReader reader,
            SpoolMessages messages,
            Settler settler,
            SourceFork fork,
            ForwarderWiring wiring) {
        if (wiring.positions() == null) {
            throw new IllegalArgumentException("delivery = exactly_once needs the committed positions");
        }
        this.spool = spool;
        this.checkpoint = checkpoint;
        this.connection = connection;
        this.reader = reader;
        this.messages = messages;
        this.settler = settler;
        this.fork = fork;
        this.wiring = wiring;
        this.observer = wiring.observer();
        this.nanoClock = wiring.nanoClock();
        this.positionsTopic = kafka.positionsTopic();
        this.batchSize = kafka.batchSize();
        this.maxTransactionBytes = ProducerSettings.inFlightBytes(kafka);
        this.lingerNanos = TimeUnit.MILLISECONDS.toNanos(kafka.lingerMs());
        this.transactionTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(ProducerSettings.transactionTimeoutMs(kafka));
    }

    /**
     * With a new producer: initTransactions (which also ends a transaction an earlier producer of this
     * transactional id left open: aborted, or committed if it was prepared), then Kafka's committed position
     * says where to go on.
     */
    @Override
    public Outcome start(long now) {
        try {
            connection.producer().initTransactions();
            long committed = wiring.positions().read(spool.sourceId());
            SpoolIdentity.CopiedFrom copiedFrom =
                    committed == Positions.NONE ? spool.identity().copiedFrom() : null;
            if (copiedFrom != null) {
                // A copy, before its first commit: what the original committed of the records both hold is sent.
                long original = wiring.positions().read(copiedFrom.sourceId());
                if (original != Positions.NONE) {
                    committed = Math.min(original, copiedFrom.lastIndex());
                }
            }
            if (committed != Positions.NONE && committed > spool.lastIndex() && !spool.appendsAbove(committed)) {
                // Records would be committed under indexes Kafka already has: a new source id, a new producer.
                // (Not after a restart of the machine: appends moved on above every index handed out before, so
                // Kafka's position beyond the spool's last record is only records an OS crash took.)
                fork.kafkaIsAhead(committed);
                txn.clear();
                committedPosition = Positions.NONE;
                connection.discard("new source id");
                return Outcome.IDLE;
            }
            resumeAt(committed, now);
            return Outcome.READY_TO_FORWARD;
        } catch (RuntimeException e) {
            Outcome fenced = fencedBy(e);
            return fenced != null
                    ? fenced
                    : connection.failedToStart("cannot start Kafka transactions: " + Failures.describe(e));
        }
    }

    /**
     * Goes on from the position Kafka committed: the transaction in doubt committed after all (its last
     * index is the position), or it did not (the position is the one before it: its records are sent again),
     * or this is a start (the reader goes right after the position, and the local checkpoint, which drives
     * retention, follows it so that it is never ahead of Kafka's).
     */
    private void resumeAt(long committed, long now) {
        if (!txn.isEmpty() && committed == txn.lastIndex()) {
            LOG.info(
                    "the transaction in doubt (records {}..{}) was committed",
                    txn.items().get(0).index,
                    committed);
            settleCommitted(now);
            return;
        }
        if (!txn.isEmpty() && committed == committedPosition) {
            txn.toResend();
            return;
        }
        txn.clear();
        long cp = checkpoint.read();
        if (committed != Positions.NONE && committed != cp) {
            LOG.info(
                    "resuming after spool index {}, the position committed in Kafka (local checkpoint {})",
                    committed,
                    cp);
            if (committed > cp) {
                settler.advance(committed);
            } else {
                checkpoint.rewindTo(committed);
            }
        }
        committedPosition = committed;
        reader.seekAfter(committed == Positions.NONE ? cp : committed);
        caughtUp = false;
    }

    /**
     * Sends the records of an aborted transaction again, reads and sends new ones into the open transaction,
     * and commits it with the spool position once it holds batch_size records or linger_ms passed since its
     * first (at once when draining and caught up).
     */
    @Override
    public Outcome step(long now, boolean draining) {
        if (txn.failure() != null) {
            return failTransaction(now);
        }
        int work = 0;
        if (txn.resendNeeded()) {
            begin();
            for (Transaction.Item item : txn.items()) {
                if (item.sendable()) {
                    send(item, now);
                    work++;
                }
            }
            txn.resent();
        }
        while (!txnFull() && txn.failure() == null) {
            SpoolRecord.Entry entry = reader.next(now);
            if (entry == null) {
                caughtUp = true;
                break;
            }
            caughtUp = false;
            work++;
            Transaction.Item item = txn.add(entry, now);
            if (deadLetteredHere.contains(entry.index())) {
                item.deadLettered = true;
                continue;
            }
            begin();
            send(item, now);
        }
        if (txn.failure() != null) {
            return failTransaction(now).plus(work);
        }
        if (!txn.isEmpty() && (txnFull() || now - txn.startNanos() >= lingerNanos || (draining && caughtUp))) {
            return commit(now).plus(work);
        }
        return Outcome.work(work);
    }

    /** batch_size records, or half the producer's buffer.memory of them (one record more at most). */
    private boolean txnFull() {
        return txn.size() >= batchSize || txn.bytes() >= maxTransactionBytes;
    }

    private void begin() {
        if (!txn.inTransaction()) {
            try {
                long at = nanoClock.getAsLong();
                connection.producer().beginTransaction();
                txn.begun(at);
            } catch (RuntimeException e) {
                txn.failed(e);
            }
        }
    }

    private void send(Transaction.Item item, long now) {
        if (txn.failure() != null) {
            return;
        }
        item.sentNanos = now;
        try {
            connection.producer().send(messages.of(item.entry), item);
        } catch (RuntimeException thrown) {
            item.onCompletion(null, thrown);
        }
    }

    /** Writes the position, commits (blocking, at most max.block.ms) and settles the transaction's records. */
    private Outcome commit(long now) {
        begin(); // a transaction of corrupt records only has sent nothing yet
        if (txn.failure() != null) {
            return failTransaction(now);
        }
        Producer<byte[], byte[]> producer = connection.producer();
        try {
            producer.send(Positions.record(
                    positionsTopic,
                    spool.sourceId(),
                    txn.lastIndex(),
                    txn.size(),
                    wiring.epochMillis().getAsLong()));
            producer.commitTransaction();
        } catch (RuntimeException e) {
            txn.failed(e);
            return failTransaction(now);
        }
        settleCommitted(nanoClock.getAsLong());
        return Outcome.work(1);
    }

    private void settleCommitted(long now) {
        for (Transaction.Item item : txn.items()) {
            if (item.corrupt()) {
                settler.countCorrupt();
            } else if (!item.deadLettered) {
                settler.countDelivered(1);
                observer.acknowledged(item.entry.type(), now - item.sentNanos);
            }
        }
        long last = txn.lastIndex();
        settler.advance(last);
        committedPosition = last;
        observer.transactionCommitted(now - txn.startNanos());
        settledSinceAsked += txn.size();
        txn.clear();
        deadLetteredHere.removeIf(index -> index <= last);
    }

    /**
     * A send, the begin or the commit failed. Fenced: stop. A record Kafka refuses for good: dead-letter
     * it, abort, and send the others again at once. Anything else (the cluster, a time-out, a commit in
     * doubt): drop the producer (Kafka ends its open transaction when the next one starts) and back off; the
     * position read then says whether the transaction in doubt committed.
     */
    private Outcome failTransaction(long now) {
        Transaction.Failure failure = txn.failure();
        Exception error = failure.error();
        Outcome fenced = fencedBy(error);
        if (fenced != null) {
            return fenced;
        }
        Transaction.Item item = failure.item();
        if (item != null) {
            observer.failed(item.entry.type(), error);
            if (Failures.classify(error) == Failures.Kind.TOPIC) {
                observer.topicRefused(item.entry.type()); // waited out below, as with at_least_once
            }
        }
        if (item != null && Failures.classify(error) == Failures.Kind.RECORD) {
            // Dead-lettered now, and not sent again by this process; the transaction goes on without it.
            settler.deadLetter(item.entry, error);
            item.deadLettered = true;
            deadLetteredHere.add(item.index);
            try {
                connection.producer().abortTransaction();
                observer.transactionAborted();
                txn.toResend();
                return Outcome.work(1);
            } catch (RuntimeException e) {
                fenced = fencedBy(e);
                if (fenced != null) {
                    return fenced;
                }
                error = e; // the producer is unusable: as below
            }
        }
        String why = Failures.transactionTimedOut(error)
                ? "the transaction coordinator aborted the transaction (open longer than the producer's"
                        + " transaction.timeout.ms): " + Failures.describe(error)
                : Failures.describe(error);
        observer.transactionAborted();
        connection.discard("transaction failed: " + why);
        txn.toResend();
        return Outcome.backOff(
                why, "transaction failed", "starting a new producer and sending its " + txn.size() + " records again");
    }

    /** After the back-off: a new producer, initTransactions, the committed position, then forwarding again. */
    @Override
    public Outcome recover(long now) {
        if (connection.producer() == null) {
            Outcome notReady = connection.notReady();
            if (notReady != null) {
                return notReady;
            }
            Outcome started = start(now);
            if (started.kind() != Outcome.Kind.READY) {
                return started;
            }
        }
        return Outcome.forwarding(
                txn.resendNeeded() ? "sending " + txn.size() + " records again" : "transactions resumed");
    }

    /**
     * Whether Kafka fenced this producer: another one started with the same transactional id (a second
     * forwarder on a copy of this spool). Then this forwarder stops for good and says so.
     *
     * <p>Kafka says so with {@code ProducerFencedException}, or, to a send in a transaction, with
     * {@code InvalidProducerEpochException}: the epoch was bumped. The coordinator bumps it too when it aborts
     * a transaction open longer than {@code transaction.timeout.ms}, which is no fencing: the records go
     * again with a new producer. The two are told apart by the transaction's age: Kafka's timer starts after
     * this process's beginTransaction, so a transaction younger than the time-out was not timed out.
     */
    private Outcome fencedBy(Throwable error) {
        Throwable e = Failures.fencing(error);
        String how = null;
        if (e == null && Failures.epochBumped(error) != null && txn.inTransaction()) {
            long openNanos = nanoClock.getAsLong() - txn.beganNanos(); // now: a commit may have stalled
            if (openNanos < transactionTimeoutNanos) {
                e = Failures.epochBumped(error);
                how = "the producer's epoch was bumped while its transaction was open "
                        + TimeUnit.NANOSECONDS.toMillis(openNanos) + " ms, under transaction.timeout.ms ("
                        + TimeUnit.NANOSECONDS.toMillis(transactionTimeoutNanos) + " ms): not a time-out; ";
            }
        }
        if (e == null) {
            return null;
        }
        String why = "fenced by Kafka: another forwarder started with transactional.id "
                + ProducerSettings.transactionalId(spool.sourceId())
                + " (a copy of this spool " + spool.dir() + "?); this one forwards nothing more, its records stay in"
                + " the spool (" + (how == null ? "" : how) + e.getMessage() + ")";
        LOG.error(why);
        connection.discard(why);
        return Outcome.fenced(why);
    }

    @Override
    public int settle() {
        int settled = settledSinceAsked;
        settledSinceAsked = 0;
        return settled;
    }

    @Override
    public void corrupt(long index, long nowNanos) {
        txn.addCorrupt(index, nowNanos); // counted when it settles: a crash before that reads it again
    }

    /** No Kafka transaction open: none at all, or its records are held to be sent again in a new one. */
    @Override
    public boolean atBoundary() {
        return !txn.inTransaction();
    }

    /**
     * The spool is full (drop_oldest) while a transaction is open, typically during an outage, its sends
     * waiting for a broker that is away: the transaction is abandoned (the producer closed; the next one's
     * initTransactions aborts it), its records are held to be sent again, and the oldest roll file can go.
     */
    @Override
    public Outcome yieldForRoom(long now) {
        if (!txn.inTransaction()) {
            return Outcome.IDLE;
        }
        observer.transactionAborted();
        connection.discard("the spool is full (on_full = drop_oldest): the open transaction is abandoned");
        txn.toResend();
        return Outcome.backOff(
                "the spool is full and a transaction was open",
                "transaction abandoned to make room (on_full = drop_oldest)",
                "starting a new producer and sending what is left of its " + txn.size() + " records again");
    }

    /** Records of the transaction held to be sent again that were in the discarded file are forgotten (lost). */
    @Override
    public long forgetBefore(long nextIndex) {
        txn.removeBefore(nextIndex);
        deadLetteredHere.removeIf(index -> index < nextIndex);
        return 0;
    }

    @Override
    public int inFlight() {
        return txn.size();
    }

    @Override
    public boolean drained() {
        return caughtUp && txn.isEmpty();
    }

    @Override
    public boolean awaitsAcknowledgements() {
        return false;
    }

    /** Aborts an open transaction: else read_committed consumers wait for transaction.timeout.ms. */
    @Override
    public void close() {
        Producer<byte[], byte[]> producer = connection.producer();
        if (producer != null && txn.inTransaction()) {
            try {
                producer.abortTransaction();
                observer.transactionAborted();
            } catch (RuntimeException e) {
                LOG.warn("aborting the open transaction at close failed: {}", Failures.describe(e));
            }
        }
    }

    @Override
    public String toString() {
        return "exactly_once " + txn;
    }
}
