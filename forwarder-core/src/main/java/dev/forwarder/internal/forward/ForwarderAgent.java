package dev.forwarder.internal.forward;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.DeliveryObserver;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarder's work: reads the spool, produces every record into Kafka, settles acknowledgements in
 * spool order and moves the checkpoint. An Agrona {@link Agent}: {@link #doWork} does a bounded amount of
 * work and returns how much; {@link ForwarderRunner} owns the thread. States, the window, failures, order and
 * crashes are described in {@code package-info.java}. All state is owned by the forwarder thread; the
 * producer's I/O thread only completes send attempts.
 */
public final class ForwarderAgent implements Agent {

    private static final Logger LOG = LoggerFactory.getLogger(ForwarderAgent.class);

    /** The cluster check run before the first producer when start-up did not run it. */
    public interface ClusterProbe {
        /** @throws Exception with a message for the operator when the cluster cannot be used yet */
        void check() throws Exception;
    }

    /** {@code delivery = exactly_once}: where Kafka says a spool's forwarding committed up to. */
    public interface CommittedPositions {
        /**
         * The last spool index committed for this source id, read with {@code read_committed}, or
         * {@link dev.forwarder.internal.kafka.Positions#NONE}.
         *
         * @throws RuntimeException when Kafka cannot be read now
         */
        long read(java.util.UUID sourceId);
    }

    /**
     * What the agent needs that is not the spool: the producer, the clock, the listeners; with
     * {@code delivery = exactly_once}, the producers are transactional and {@code positions} reads Kafka's
     * committed position.
     */
    public record Wiring(
            Supplier<Producer<byte[], byte[]>> producers,
            ClusterProbe probe,
            Settlements settlements,
            DeliveryObserver observer,
            LongSupplier nanoClock,
            LongSupplier epochMillis,
            CommittedPositions positions) {

        public Wiring(
                Supplier<Producer<byte[], byte[]>> producers,
                ClusterProbe probe,
                Settlements settlements,
                DeliveryObserver observer,
                LongSupplier nanoClock,
                LongSupplier epochMillis) {
            this(producers, probe, settlements, observer, nanoClock, epochMillis, null);
        }
    }

    private final Spool spool;
    private final Checkpoint checkpoint;
    private final RollFiles rollFiles;
    private final SpaceGuard space;
    private final DeadLetters deadLetters;
    private final Wiring wiring;
    private final ForwarderConfig.Kafka kafka;
    private final String[] topics;
    private final DeliveryWindow window;
    private final ProducerConnection connection;
    private final Backoff backoff = new Backoff();
    private final long stallNanos;
    private final long deliveryTimeoutNanos;
    private final long forceIntervalNanos;
    private final boolean syncSpoolBeforeCheckpoint;
    /** {@code delivery = exactly_once}: records go in transactions with the spool position. */
    private final boolean exactlyOnce;

    private final Transaction txn = new Transaction();
    private final long lingerNanos;
    /** Records this process dead-lettered in a transaction that was then aborted: not sent again. */
    private final java.util.Set<Long> deadLetteredHere = new java.util.HashSet<>();
    /** The last spool index Kafka has committed for this source (exactly_once), as this process knows it. */
    private long committedPosition = dev.forwarder.internal.kafka.Positions.NONE;

    private SpoolReader reader;
    /** The producer of the current connection (null while there is none): sends go to it. */
    private Producer<byte[], byte[]> producer;

    private boolean producerBroken;
    private Header sourceIdHeader;
    private boolean caughtUp;
    private long lastForceNanos;
    private String lastLoggedError;

    private volatile State state;
    private volatile boolean draining;
    private volatile long drainDeadlineNanos;
    private volatile boolean finished;
    private volatile boolean roomRequested;
    /** The largest record that publishers asked room for since the last discard decision. */
    private final java.util.concurrent.atomic.AtomicInteger roomNeeded =
            new java.util.concurrent.atomic.AtomicInteger();

    private volatile long delivered;
    private volatile long deadLettered;
    private volatile long corrupt;
    private volatile long lost;
    private volatile long checkpointGap;
    private volatile int inFlight;
    private volatile String lastError;

    public ForwarderAgent(
            Spool spool,
            Spool deadLetterSpool,
            SpaceGuard deadLetterSpace,
            Checkpoint checkpoint,
            SpaceGuard space,
            ForwarderConfig.Kafka kafka,
            Wiring wiring) {
        this.spool = spool;
        this.checkpoint = checkpoint;
        this.space = space;
        this.kafka = kafka;
        this.wiring = wiring;
        this.deadLetters = new DeadLetters(deadLetterSpool, deadLetterSpace);
        this.rollFiles = new RollFiles(spool, kafka.spool().retainForwarded());
        this.topics = Arrays.stream(DataType.values()).map(kafka::topic).toArray(String[]::new);
        this.window = new DeliveryWindow(ProducerSettings.inFlightWindow(kafka), wiring.observer(), wiring.nanoClock());
        this.connection = new ProducerConnection(
                wiring.producers(),
                wiring.probe(),
                wiring.observer(),
                "forwarder-" + spool.dir().getFileName());
        long deliveryTimeoutMs = ProducerSettings.deliveryTimeoutMs(kafka);
        this.deliveryTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(deliveryTimeoutMs);
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallTimeoutMs(kafka));
        this.forceIntervalNanos = TimeUnit.MILLISECONDS.toNanos(kafka.spool().checkpointIntervalMs());
        this.syncSpoolBeforeCheckpoint = kafka.spool().sync() != ForwarderConfig.SyncPolicy.NONE;
        this.exactlyOnce = kafka.delivery() == ForwarderConfig.Delivery.EXACTLY_ONCE;
        if (exactlyOnce && wiring.positions() == null) {
            throw new IllegalArgumentException("delivery = exactly_once needs the committed positions");
        }
        this.lingerNanos = TimeUnit.MILLISECONDS.toNanos(kafka.lingerMs());
        this.state = State.CONNECTING;
    }

    /**
     * How long a send may wait for its callback before the producer is presumed stuck: the producer's own
     * delivery.timeout.ms (it must call back by then, with an expiry if nothing else) plus a request time-out.
     * Never shorter: an ISR shrink can hold acks=all for replica.lag.time.max.ms (30 s), which is normal.
     */
    public static long stallTimeoutMs(ForwarderConfig.Kafka kafka) {
        return ProducerSettings.deliveryTimeoutMs(kafka) + kafka.requestTimeoutMs() + kafka.lingerMs();
    }

    @Override
    public String roleName() {
        return "forwarder-" + spool.dir().getFileName();
    }

    /**
     * Opens the reader right after the checkpoint. A checkpoint ahead of the spool's last record means an
     * OS crash took records that had been forwarded (their indexes will be handed out again): the
     * checkpoint goes back to the last record, the gap is counted, and the spool gets a new source id so that
     * consumers' (source_id, spool_index) keys of the new records cannot collide with the old ones.
     */
    @Override
    public void onStart() {
        long cp = checkpoint.read();
        long last = spool.lastIndex();
        if (cp != Checkpoint.NONE && last < cp) {
            long gap = spool.indexGap(last, cp);
            String oldId = String.valueOf(spool.sourceId());
            try {
                spool.newSourceId();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot write a new source id in " + spool.dir(), e);
            }
            checkpoint.rewindTo(last < 0 ? Checkpoint.NONE : last);
            checkpointGap = gap;
            LOG.error(
                    "the checkpoint ({}) is ahead of the spool's last record ({}): an OS crash or power loss took"
                            + " {} forwarded records from the spool before they reached the disk; their indexes will be"
                            + " used again, so the spool's source id changes from {} to {}",
                    cp,
                    last,
                    gap,
                    oldId,
                    spool.sourceId());
            cp = checkpoint.read();
        }
        sourceIdHeader = KafkaMessages.sourceIdHeader(spool.sourceId());
        reader = new SpoolReader(spool, new SpoolReader.CorruptRecords() {
            @Override
            public void corrupt(long index, String reason) {
                wiring.settlements().onFate(index, PublishResult.Status.CORRUPT);
                // Counted when it settles: a crash before that reads it again.
                if (exactlyOnce) {
                    txn.addCorrupt(index, now());
                } else {
                    window.addCorrupt(index);
                }
            }

            @Override
            public void unreadable(long index, String reason) {
                lastError = reason + "; forwarding waits here (nothing is skipped or deleted): add the key back"
                        + " to the key file and restart";
                LOG.error(lastError);
            }
        });
        reader.seekAfter(cp);
        lastForceNanos = now();
        LOG.info(
                "forwarding spool {} (source {}) from checkpoint {} to {}",
                spool.dir(),
                spool.sourceId(),
                cp,
                kafka.brokers());
    }

    @Override
    public int doWork() {
        if (finished) {
            throw new AgentTerminationException(true); // expected: the drain is over
        }
        long now = now();
        try {
            return doWork(now);
        } catch (RuntimeException | InternalError e) {
            // A bug, or a fault of the spool (a mapped file on a full disk faults with InternalError): never
            // let it end forwarding; say so, back off, go on.
            lastError = Failures.describe(e);
            LOG.error("forwarder error; backing off", e);
            backoff.schedule(now);
            if (state == State.FORWARDING) {
                transition(State.BACKING_OFF, lastError);
            }
            return 0;
        }
    }

    /** One duty cycle at {@code now} (nanoseconds of the injected clock); returns the work done. */
    int doWork(long now) {
        int work = settle();
        if (roomRequested && txn.isEmpty()) { // exactly_once: not in the middle of a transaction
            roomRequested = false;
            work += makeRoom();
        }
        switch (state) {
            case CONNECTING -> work += connect(now);
            case FORWARDING -> {
                if (exactlyOnce) {
                    work += transact(now);
                } else if (window.resendNeeded()) {
                    work += backOff(now);
                } else if (stalled(now)) {
                    work += replaceStalledProducer(now);
                } else {
                    work += send(now);
                }
            }
            case BACKING_OFF -> work += exactlyOnce ? recoverTransactions(now) : recover(now);
            default -> {}
        }
        inFlight = exactlyOnce ? txn.size() : window.size();
        connection.pollMetrics(now);
        if (now - lastForceNanos >= forceIntervalNanos) {
            forceCheckpoint();
            lastForceNanos = now;
            rollFiles.deleteForwarded(checkpoint.read(), wiring.epochMillis().getAsLong());
        }
        if (draining) {
            boolean done = (state == State.FORWARDING && caughtUp && window.isEmpty() && txn.isEmpty())
                    || state == State.FENCED;
            if (done || now - drainDeadlineNanos >= 0) {
                if (!done) {
                    LOG.warn(
                            "drain time-out: {} records sent and unsettled, checkpoint {}; the rest stays in the"
                                    + " spool for the next start",
                            window.size(),
                            checkpoint.read());
                }
                finished = true;
            }
        }
        return work;
    }

    /**
     * Forces the checkpoint to disk; with {@code spool.sync} other than none, the spool's data first, so that
     * after an OS crash the checkpoint on disk never covers records that did not reach the disk.
     */
    private void forceCheckpoint() {
        if (syncSpoolBeforeCheckpoint) {
            try {
                spool.syncFiles();
            } catch (java.io.IOException e) {
                LOG.warn("cannot force the spool's roll files to disk; the checkpoint stays in memory", e);
                return;
            }
        }
        checkpoint.force();
    }

    /** Pops settled records off the head of the window, counts each, and advances the checkpoint over them. */
    private int settle() {
        int settled = 0;
        long advancedTo = Checkpoint.NONE;
        DeliveryWindow.Slot head;
        while ((head = window.pollSettledHead()) != null) {
            if (head.acknowledged()) {
                delivered++;
            } else if (head.corrupt()) {
                corrupt++;
                wiring.observer().corrupt();
            } else {
                deadLetter(head.entry, head.attempt().error()); // failed for a reason of its own
            }
            advancedTo = head.index;
            settled++;
        }
        if (advancedTo != Checkpoint.NONE) {
            checkpoint.advance(advancedTo);
            wiring.settlements().onCheckpoint(advancedTo);
            if (state == State.FORWARDING) {
                backoff.reset();
            }
        }
        return settled;
    }

    /**
     * Moves a record Kafka refused for good to the dead-letter spool, counted and told to a waiting
     * publisher; if the dead-letter spool cannot take it, it is counted lost with the reason.
     */
    private void deadLetter(SpoolRecord.Entry entry, Exception error) {
        String reason = Failures.describe(error);
        String notWritten = deadLetters.write(entry, spool.sourceId(), reason);
        if (notWritten == null) {
            deadLettered++;
            wiring.observer().deadLettered();
            wiring.settlements().onFate(entry.index(), PublishResult.Status.DEAD_LETTERED);
            LOG.warn(
                    "record {} ({}) rejected by Kafka for good, moved to the dead-letter spool: {}",
                    entry.index(),
                    entry.type(),
                    reason);
            return;
        }
        lost++;
        wiring.observer().lost(1);
        wiring.settlements().onFate(entry.index(), PublishResult.Status.LOST);
        lastError = notWritten;
        LOG.error(
                "record {} ({}) rejected by Kafka for good ({}) and {}; counted as lost",
                entry.index(),
                entry.type(),
                reason,
                notWritten);
    }

    /** Gets a producer (the cluster check first when start-up did not run it), with back-off. */
    private int connect(long now) {
        if (!backoff.due(now)) {
            return 0;
        }
        switch (connection.connect()) {
            case WAITING -> {
                return 0;
            }
            case FAILED -> {
                cannotConnect(now);
                return 0;
            }
            default -> {
                producer = connection.producer();
                if (exactlyOnce && !startTransactions(now)) {
                    return 0;
                }
                lastLoggedError = null;
                backoff.reset();
                transition(State.FORWARDING, "connected to " + kafka.brokers());
                return 1;
            }
        }
    }

    /**
     * The cluster check failed or the producer could not be built (a host name that does not resolve yet, a
     * bad producer setting): counted, shown in lastError, retried with back-off, never the end of forwarding.
     */
    private void cannotConnect(long now) {
        String message = connection.failure();
        if (!message.equals(lastLoggedError)) {
            LOG.warn("cannot use Kafka yet, spooling meanwhile; retrying with back-off: {}", message);
            lastLoggedError = message;
        }
        lastError = message;
        backoff.schedule(now);
    }

    private int send(long now) {
        int sent = 0;
        List<DeliveryWindow.Slot> released = window.release();
        if (!released.isEmpty()) {
            sent += released.size();
            if (!produceAll(released, now)) {
                return sent + backOff(now);
            }
        }
        while (sent < kafka.batchSize() && !window.full()) {
            SpoolRecord.Entry entry = reader.next(now);
            if (entry == null) {
                caughtUp = true;
                break;
            }
            caughtUp = false;
            sent++;
            DeliveryWindow.Attempt attempt = window.add(entry, now, producer);
            if (attempt != null && !produce(attempt)) {
                return sent + backOff(now);
            }
            if (window.resendNeeded()) {
                break;
            }
        }
        return sent;
    }

    /**
     * Sends the slots in order. send() may fail before it returns (it threw, or called back at once: no
     * metadata within max.block.ms): then it stops, and the slots not sent yet get a failed attempt with the
     * same cause, so that they are sent again with the others (and no one waits max.block.ms for each).
     *
     * @return false if a send failed
     */
    private boolean produceAll(List<DeliveryWindow.Slot> slots, long now) {
        for (int i = 0; i < slots.size(); i++) {
            DeliveryWindow.Attempt attempt = window.resend(slots.get(i), now, producer);
            if (!produce(attempt) || (attempt.failed() && attempt.kind() != Failures.Kind.RECORD)) {
                for (int j = i + 1; j < slots.size(); j++) {
                    window.resend(slots.get(j), now, producer).failedToSend(attempt.error());
                }
                return false;
            }
        }
        return true;
    }

    /** Hands one attempt to the producer; false if send() threw (the attempt is then failed with it). */
    private boolean produce(DeliveryWindow.Attempt attempt) {
        SpoolRecord.Entry e = attempt.slot.entry;
        try {
            producer.send(
                    KafkaMessages.toProducerRecord(
                            topics[e.type().ordinal()], e.type(), e.keyBytes(), e.payload(), sourceIdHeader, e.index()),
                    attempt);
            return true;
        } catch (RuntimeException thrown) {
            // Thrown, not called back: the producer is closed or broken, metadata did not come within
            // max.block.ms, or we were interrupted.
            attempt.failedToSend(thrown);
            return false;
        }
    }

    private boolean stalled(long now) {
        DeliveryWindow.Attempt oldest = window.oldestPending();
        return oldest != null && now - oldest.sentNanos > stallNanos;
    }

    /** Fails every in-flight send by closing the producer at once; recover() then resends with a new one. */
    private int replaceStalledProducer(long now) {
        DeliveryWindow.Attempt oldest = window.oldestPending();
        String why = "no callback for record " + oldest.slot.index + " in "
                + TimeUnit.NANOSECONDS.toSeconds(now - oldest.sentNanos) + " s (longer than delivery.timeout.ms);"
                + " replacing the producer";
        LOG.warn(why);
        lastError = why;
        producerBroken = true;
        connection.discard(why); // its sends in flight fail now
        producer = null;
        return backOff(now);
    }

    private int backOff(long now) {
        DeliveryWindow.Attempt first = window.firstResendable();
        if (first != null) {
            lastError = describe(first);
        }
        long delayMs = backoff.schedule(now);
        transition(
                State.BACKING_OFF,
                "send failed (" + lastError + "); sending the failed records again in " + delayMs + " ms");
        return 0;
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
     * Waits for every in-flight send to complete and the back-off to pass, replaces the producer if it is
     * broken, then sends the failed records again, in spool order, from the window.
     */
    private int recover(long now) {
        if (stalled(now)) {
            return replaceStalledProducer(now);
        }
        if (!backoff.due(now) || window.anyPending()) {
            return 0;
        }
        settle();
        for (DeliveryWindow.Attempt a : window.failedAttempts()) {
            if (a.producer != producer) {
                continue; // a failure of a producer already replaced says nothing about this one
            }
            Failures.Kind kind = a.kind();
            // A producer that failed, or that kept a record until delivery.timeout.ms (KAFKA-14359: an idempotent
            // producer can retry OUT_OF_ORDER_SEQUENCE_NUMBER until then after a broker restart), is replaced.
            if (kind == Failures.Kind.PRODUCER
                    || (kind == Failures.Kind.RETRIABLE && a.waitedNanos() >= deliveryTimeoutNanos)) {
                producerBroken = true;
            }
        }
        if (producerBroken) {
            connection.discard(lastError);
            producer = null;
            producerBroken = false;
        }
        if (producer == null && !reconnect(now)) {
            return 0;
        }
        List<DeliveryWindow.Slot> resend = window.takeResendable();
        if (!produceAll(resend, now)) {
            return backOff(now);
        }
        caughtUp = false;
        transition(State.FORWARDING, "sent " + resend.size() + " records again");
        return 1;
    }

    // ---- delivery = exactly_once ----

    /**
     * With a new producer: initTransactions (which also ends a transaction an earlier producer of this
     * transactional id left open: aborted, or committed if it was prepared), then Kafka's committed position
     * says where to go on. False (producer discarded, back-off scheduled) if that failed.
     */
    private boolean startTransactions(long now) {
        try {
            producer.initTransactions();
            long committed = wiring.positions().read(spool.sourceId());
            if (committed != dev.forwarder.internal.kafka.Positions.NONE && committed > spool.lastIndex()) {
                forkedFromKafka(committed);
                return false;
            }
            resumeAt(committed, now);
            return true;
        } catch (RuntimeException e) {
            if (fenced(e)) {
                return false;
            }
            String why = "cannot start Kafka transactions: " + Failures.describe(e);
            connection.discard(why);
            producer = null;
            wiring.observer().connectionErrors(1);
            if (!why.equals(lastLoggedError)) {
                LOG.warn("{}; spooling meanwhile, retrying with back-off", why);
                lastLoggedError = why;
            }
            lastError = why;
            backoff.schedule(now);
            return false;
        }
    }

    /**
     * Kafka committed records of this source id beyond this spool's last record: this spool is an older
     * copy of the spool that was forwarded (or an OS crash took records with {@code sync = none}). Its next
     * records would get indexes Kafka already has under this source id and be taken as forwarded. So, as
     * for a checkpoint ahead of the spool, the spool gets a new source id (a new transactional id and
     * position); forwarding goes on from the local checkpoint with a new producer.
     */
    private void forkedFromKafka(long committed) {
        String oldId = String.valueOf(spool.sourceId());
        try {
            spool.newSourceId();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write a new source id in " + spool.dir(), e);
        }
        sourceIdHeader = KafkaMessages.sourceIdHeader(spool.sourceId());
        LOG.error(
                "Kafka has committed records of spool source {} up to index {}, beyond this spool's last record"
                        + " ({}): this spool is an older copy of the one forwarded, or lost records in an OS crash. Its new"
                        + " records would reuse indexes Kafka already has, so its source id changes to {}; forwarding goes"
                        + " on from the local checkpoint {}",
                oldId,
                committed,
                spool.lastIndex(),
                spool.sourceId(),
                checkpoint.read());
        txn.clear();
        committedPosition = dev.forwarder.internal.kafka.Positions.NONE;
        connection.discard("new source id");
        producer = null;
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
        if (committed != dev.forwarder.internal.kafka.Positions.NONE && committed != cp) {
            LOG.info(
                    "resuming after spool index {}, the position committed in Kafka (local checkpoint {})",
                    committed,
                    cp);
            if (committed > cp) {
                checkpoint.advance(committed);
                wiring.settlements().onCheckpoint(committed);
            } else {
                checkpoint.rewindTo(committed);
            }
        }
        committedPosition = committed;
        reader.seekAfter(committed == dev.forwarder.internal.kafka.Positions.NONE ? cp : committed);
        caughtUp = false;
    }

    /**
     * One step of forwarding in transactions: sends the records of an aborted transaction again, reads and
     * sends new ones into the open transaction, and commits it with the spool position once it holds
     * batch_size records or linger_ms passed since its first (at once when draining and caught up).
     */
    private int transact(long now) {
        if (txn.failure() != null) {
            return failTransaction(now);
        }
        int work = 0;
        if (txn.resendNeeded()) {
            begin();
            for (Transaction.Item item : txn.items()) {
                if (!item.corrupt() && !item.dead) {
                    sendInTransaction(item, now);
                    work++;
                }
            }
            txn.resent();
        }
        while (txn.size() < kafka.batchSize() && txn.failure() == null) {
            SpoolRecord.Entry entry = reader.next(now);
            if (entry == null) {
                caughtUp = true;
                break;
            }
            caughtUp = false;
            work++;
            Transaction.Item item = txn.add(entry, now);
            if (deadLetteredHere.contains(entry.index())) {
                item.dead = true;
                continue;
            }
            begin();
            sendInTransaction(item, now);
        }
        if (txn.failure() != null) {
            return work + failTransaction(now);
        }
        if (!txn.isEmpty()
                && (txn.size() >= kafka.batchSize()
                        || now - txn.startNanos() >= lingerNanos
                        || (draining && caughtUp))) {
            work += commit(now);
        }
        return work;
    }

    private void begin() {
        if (!txn.begun()) {
            try {
                producer.beginTransaction();
                txn.begun(true);
            } catch (RuntimeException e) {
                txn.failed(e);
            }
        }
    }

    private void sendInTransaction(Transaction.Item item, long now) {
        if (txn.failure() != null) {
            return;
        }
        SpoolRecord.Entry e = item.entry;
        item.sentNanos = now;
        try {
            producer.send(
                    KafkaMessages.toProducerRecord(
                            topics[e.type().ordinal()], e.type(), e.keyBytes(), e.payload(), sourceIdHeader, e.index()),
                    item);
        } catch (RuntimeException thrown) {
            item.onCompletion(null, thrown);
        }
    }

    /** Writes the position, commits (blocking, at most max.block.ms) and settles the transaction's records. */
    private int commit(long now) {
        begin(); // a transaction of corrupt records only has sent nothing yet
        if (txn.failure() != null) {
            return failTransaction(now);
        }
        try {
            producer.send(dev.forwarder.internal.kafka.Positions.record(
                    kafka.positionsTopic(),
                    spool.sourceId(),
                    txn.lastIndex(),
                    txn.size(),
                    wiring.epochMillis().getAsLong()));
            producer.commitTransaction();
        } catch (RuntimeException e) {
            txn.failed(e);
            return failTransaction(now);
        }
        settleCommitted(wiring.nanoClock().getAsLong());
        return 1;
    }

    private void settleCommitted(long now) {
        for (Transaction.Item item : txn.items()) {
            if (item.corrupt()) {
                corrupt++;
                wiring.observer().corrupt();
            } else if (!item.dead) {
                delivered++;
                wiring.observer().acknowledged(item.entry.type(), now - item.sentNanos);
            }
        }
        long last = txn.lastIndex();
        checkpoint.advance(last);
        wiring.settlements().onCheckpoint(last);
        committedPosition = last;
        wiring.observer().transactionCommitted(now - txn.startNanos());
        txn.clear();
        deadLetteredHere.removeIf(index -> index <= last);
        backoff.reset();
    }

    /**
     * A send, the begin or the commit failed. Fenced: stop. A record Kafka refuses for good: dead-letter
     * it, abort, and send the others again at once. Anything else (the cluster, a time-out, a commit in
     * doubt): drop the producer (Kafka ends its open transaction when the next one starts) and back off; the
     * position read then says whether the transaction in doubt committed.
     */
    private int failTransaction(long now) {
        Transaction.Failure failure = txn.failure();
        Exception error = failure.error();
        if (fenced(error)) {
            return 0;
        }
        Transaction.Item item = failure.item();
        if (item != null) {
            wiring.observer().failed(item.entry.type(), error);
        }
        if (item != null && Failures.classify(error) == Failures.Kind.RECORD) {
            // Dead-lettered now, and not sent again by this process; the transaction goes on without it.
            deadLetter(item.entry, error);
            item.dead = true;
            deadLetteredHere.add(item.index);
            try {
                producer.abortTransaction();
                wiring.observer().transactionAborted();
                txn.toResend();
                return 1;
            } catch (RuntimeException e) {
                if (fenced(e)) {
                    return 0;
                }
                error = e; // the producer is unusable: as below
            }
        }
        lastError = Failures.describe(error);
        wiring.observer().transactionAborted();
        connection.discard("transaction failed: " + lastError);
        producer = null;
        txn.toResend();
        long delayMs = backoff.schedule(now);
        transition(
                State.BACKING_OFF,
                "transaction failed (" + lastError + "); starting a new producer and" + " sending its " + txn.size()
                        + " records again in " + delayMs + " ms");
        return 0;
    }

    /** After the back-off: a new producer, initTransactions, the committed position, then forwarding again. */
    private int recoverTransactions(long now) {
        if (!backoff.due(now)) {
            return 0;
        }
        if (producer == null && (!reconnect(now) || !startTransactions(now))) {
            return 0;
        }
        transition(
                State.FORWARDING,
                txn.resendNeeded() ? "sending " + txn.size() + " records again" : "transactions resumed");
        return 1;
    }

    /**
     * Whether Kafka fenced this producer: another one started with the same transactional id (a second
     * forwarder on a copy of this spool). Then this forwarder stops for good and says so.
     */
    private boolean fenced(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof org.apache.kafka.common.errors.ProducerFencedException
                    || e instanceof org.apache.kafka.common.errors.InvalidProducerEpochException) {
                String why = "fenced by Kafka: another forwarder started with transactional.id "
                        + dev.forwarder.internal.kafka.ProducerSettings.transactionalId(spool.sourceId())
                        + " (a copy of this spool " + spool.dir() + "?); this one forwards nothing more, its"
                        + " records stay in the spool (" + e.getMessage() + ")";
                LOG.error(why);
                lastError = why;
                connection.discard(why);
                producer = null;
                transition(State.FENCED, why);
                return true;
            }
        }
        return false;
    }

    /** One step towards a new producer after a failure; false while there is none (a failure is counted). */
    private boolean reconnect(long now) {
        ProducerConnection.Step step = connection.connect();
        if (step != ProducerConnection.Step.READY) {
            if (step == ProducerConnection.Step.FAILED) {
                cannotConnect(now);
            }
            return false;
        }
        producer = connection.producer();
        return true;
    }

    /** With on_full = drop_oldest, a publisher found the spool full: discard a roll file if still needed. */
    public void requestRoom(int bytes) {
        roomNeeded.accumulateAndGet(bytes, Math::max);
        roomRequested = true;
    }

    /** Whether a roll file could be discarded now (there is one besides the newest). Any thread. */
    public boolean canDiscard() {
        return rollFiles.canDiscard();
    }

    /**
     * Makes room by discarding the oldest roll file, forwarded or not ({@code on_full = drop_oldest}): one
     * file per request, and only if a fresh measurement still finds no room for the largest record asked
     * for (many publishers may have asked for the same need). Its unforwarded records are counted as lost; those of its records
     * already acknowledged count as delivered; the checkpoint moves past it, and the reader only moves if it
     * was behind.
     */
    private int makeRoom() {
        int need = roomNeeded.getAndSet(0);
        space.measure();
        if (space.admits(need)) {
            return 0; // another discard, or retention, made room meanwhile
        }
        long cp = checkpoint.read();
        RollFiles.Discarded d = rollFiles.discardOldest(cp);
        if (d == null) {
            return 0;
        }
        long inWindow = 0;
        long unsettledInWindow = 0;
        for (DeliveryWindow.Slot slot : window.removeBefore(d.nextIndex())) {
            inWindow++;
            if (slot.acknowledged()) {
                delivered++;
                wiring.settlements().onFate(slot.index, PublishResult.Status.ACKNOWLEDGED);
            } else if (slot.corrupt()) {
                corrupt++;
                wiring.observer().corrupt();
            } else {
                unsettledInWindow++;
            }
        }
        long discarded = d.unsettled() - inWindow + unsettledInWindow;
        wiring.settlements().onLost(Math.max(cp + 1, d.firstIndex()), d.nextIndex());
        checkpoint.advance(d.nextIndex() - 1);
        wiring.settlements().onCheckpoint(d.nextIndex() - 1);
        reader.skipTo(d.nextIndex());
        lost += discarded;
        wiring.observer().lost(discarded);
        space.measure();
        LOG.warn(
                "spool full (on_full = drop_oldest): discarded roll file {} with {} unforwarded records",
                d.file(),
                discarded);
        return 1;
    }

    /** Asks the agent to finish: forward what is spooled, at most until {@code deadlineNanos}. */
    public void drain(long deadlineNanos) {
        drainDeadlineNanos = deadlineNanos;
        draining = true;
    }

    /** Stops at the next duty cycle, without draining. */
    public void abort() {
        finished = true;
    }

    /** Closes the producer, settles what completed, forces the checkpoint, applies retention. */
    @Override
    public void onClose() {
        if (exactlyOnce && producer != null && txn.begun()) {
            try {
                producer.abortTransaction(); // else read_committed consumers wait for transaction.timeout.ms
                wiring.observer().transactionAborted();
            } catch (RuntimeException e) {
                LOG.warn("aborting the open transaction at close failed: {}", Failures.describe(e));
            }
        }
        try {
            connection.close(window.isEmpty() ? Duration.ofSeconds(5) : Duration.ZERO);
        } catch (RuntimeException e) {
            LOG.warn("closing the Kafka producer failed", e);
        }
        try {
            settle(); // whatever completed during close
        } catch (RuntimeException e) {
            LOG.warn("settling at close failed", e);
        }
        forceCheckpoint();
        try {
            rollFiles.deleteForwarded(checkpoint.read(), wiring.epochMillis().getAsLong());
            if (reader != null) {
                reader.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("cleaning up the spool at close failed", e);
        }
        finished = true;
        transition(State.CLOSED, "checkpoint " + checkpoint.read());
    }

    /** For the simulation's crashes: the files stay as they are; only the reader's resources go. */
    void closeReaderAfterCrash() {
        if (reader != null) {
            reader.close();
        }
    }

    private void transition(State next, String why) {
        if (state != next) {
            LOG.info("forwarder {} -> {}: {}", state, next, why);
            state = next;
        }
    }

    private long now() {
        return wiring.nanoClock().getAsLong();
    }

    public State state() {
        State s = state;
        return s == State.FORWARDING && draining ? State.DRAINING : s;
    }

    public boolean finished() {
        return finished;
    }

    public long delivered() {
        return delivered;
    }

    public long deadLettered() {
        return deadLettered;
    }

    public long corrupt() {
        return corrupt;
    }

    public long lost() {
        return lost;
    }

    /** Records whose indexes the checkpoint had passed but the spool no longer held at start (OS crash). */
    public long checkpointGap() {
        return checkpointGap;
    }

    public int inFlight() {
        return inFlight;
    }

    /** The delivery window, described: for failure messages of tests. */
    String describeWindow() {
        return window.toString();
    }

    public String lastError() {
        return lastError;
    }
}
