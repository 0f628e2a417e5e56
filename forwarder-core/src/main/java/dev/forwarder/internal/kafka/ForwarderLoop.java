package dev.forwarder.internal.kafka;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.internal.journal.Checkpoint;
import dev.forwarder.internal.journal.Retention;
import dev.forwarder.internal.journal.Spool;
import dev.forwarder.internal.journal.SpoolRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarder thread: tails the spool, produces every record into Kafka, and moves the checkpoint.
 *
 * <h2>Design</h2>
 *
 * <p><b>Duty cycle.</b> Shaped after Agrona's {@code Agent}: {@link #doWork} does a bounded amount of work
 * and returns how much; {@link #run} idles (spin, yield, then park up to 1 ms) when there was none. All
 * state below is owned by this one thread; the only other writer is the producer's I/O thread, which
 * completes {@link InFlight} entries and raises {@code retryNeeded}. States: CONNECTING (checking the
 * cluster, when start-up did not), FORWARDING, BACKING_OFF, DRAINING (closing), CLOSED. A transition is
 * logged once; nothing is logged per record.
 *
 * <p><b>The in-flight window and the checkpoint.</b> Records are read from the spool in index order and
 * each sent record gets an {@link InFlight} at the tail of {@code window}. Acknowledgements come back out of
 * order (different partitions, different brokers). The checkpoint is the index of the last record of the
 * longest fully settled prefix of the window: {@link #settle} pops settled entries from the head and stops
 * at the first unsettled one. So the checkpoint never passes a record Kafka has not acknowledged (or that
 * was dead-lettered, or was corrupt). The window holds at most batch_size x 5 entries; when it is full,
 * reading pauses. After a crash, the records between the persisted checkpoint and the crash are sent
 * again: at-least-once, with duplicates bounded by the window (the checkpoint is a memory-mapped file
 * updated on every advance, so it survives a process crash as of its last store).
 *
 * <p><b>Failures.</b> The producer already retries retriable errors internally (idempotent, unlimited
 * retries, until delivery.timeout.ms). A failure that reaches us is handled by {@link Failures}: a record
 * Kafka can never take is settled by moving it to the dead-letter spool when it reaches the head (so order
 * of settlement is kept); any other failure stops sending (BACKING_OFF), waits for every in-flight entry to
 * settle, then rewinds the tailer to the first unsettled record and resends from there, skipping the
 * records already acknowledged, after an exponential back-off (100 ms doubling to 5 s). Never skipping a
 * record is the point: a broker outage only delays. A failure that may have broken the producer (fenced,
 * authentication, closed) also replaces the producer before resending.
 *
 * <p><b>Draining.</b> {@link #drain} asks the loop to stop once everything spooled is acknowledged, or at
 * the deadline, whichever is first; then the checkpoint is forced to disk and the producer closed. Records
 * not acknowledged by then stay after the checkpoint and are sent by the next start.
 */
public final class ForwarderLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ForwarderLoop.class);
    private static final long INITIAL_BACKOFF_MS = 100;
    private static final long MAX_BACKOFF_MS = 5_000;

    /** Told about progress, on the forwarder thread; must be quick. */
    public interface Listener {
        /** Everything up to and including {@code checkpoint} is settled. */
        void onCheckpoint(long checkpoint);

        /** The record at {@code index} was moved to the dead-letter spool. */
        void onDeadLetter(long index, String reason);
    }

    private final Spool spool;
    private final Spool deadLetters;
    private final Checkpoint checkpoint;
    private final Supplier<Producer<byte[], byte[]>> producers;
    private final ForwarderConfig.Kafka kafka;
    private final Listener listener;
    private final DeliveryObserver observer;
    private final LongSupplier nanoClock;
    private final UUID sourceId;
    private final Header sourceIdHeader;
    private final String[] topics;
    private final int capacity;
    private final long stallNanos;
    private final Retention retention;
    private final long forceIntervalNanos;

    private final ArrayDeque<InFlight> window = new ArrayDeque<>();
    private final Set<Long> alreadyDelivered = new HashSet<>();
    private final Runnable raiseRetry = () -> retryNeeded = true;
    private Producer<byte[], byte[]> producer;
    private ExcerptTailer tailer;
    private SpoolRecord.Entry unsent;
    private long readFrom;
    private long highestRead = Long.MIN_VALUE;
    private boolean caughtUp;
    private long backoffMs = INITIAL_BACKOFF_MS;
    private long nextAttemptNanos;
    private long lastForceNanos;
    private String lastConnectError;
    private static final long CONNECTION_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private long lastConnectionPollNanos;
    private double lastConnectionsCreated;
    private double lastConnectionCount;
    private double lastAuthFailures;

    private volatile State state;
    private volatile boolean retryNeeded;
    private boolean producerBroken;
    private volatile boolean draining;
    private volatile long drainDeadlineNanos;
    private volatile boolean finished;
    private volatile long delivered;
    private volatile long deadLettered;
    private volatile long corrupt;
    private volatile long lost;
    private volatile boolean roomRequested;
    private long stuckSinceNanos;
    private int stuckCycle;
    private volatile int inFlight;
    private volatile String lastError;

    /**
     * @param connectFirst run the cluster check (with back-off) before forwarding, because start-up did not
     */
    public ForwarderLoop(Spool spool, Spool deadLetters, Checkpoint checkpoint,
            Supplier<Producer<byte[], byte[]>> producers, ForwarderConfig.Kafka kafka, boolean connectFirst,
            Listener listener, DeliveryObserver observer, LongSupplier nanoClock) {
        this.spool = spool;
        this.deadLetters = deadLetters;
        this.checkpoint = checkpoint;
        this.producers = producers;
        this.kafka = kafka;
        this.listener = listener;
        this.observer = observer;
        this.nanoClock = nanoClock;
        this.sourceId = spool.sourceId();
        this.sourceIdHeader = KafkaMessages.sourceIdHeader(sourceId);
        this.topics = java.util.Arrays.stream(DataType.values()).map(kafka::topic).toArray(String[]::new);
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallTimeoutMs(kafka));
        this.retention = new Retention(spool, kafka.spool().retainForwarded());
        this.capacity = ProducerSettings.inFlightWindow(kafka);
        this.forceIntervalNanos = TimeUnit.MILLISECONDS.toNanos(kafka.spool().checkpointIntervalMs());
        this.state = connectFirst ? State.CONNECTING : State.FORWARDING;
    }

    @Override
    public void run() {
        open();
        int idle = 0;
        try {
            while (!finished) {
                int work;
                try {
                    work = doWork(nanoClock.getAsLong());
                } catch (RuntimeException | InternalError e) {
                    // A bug, or a fault of the spool (a mapped file on a full disk faults with InternalError):
                    // never let it kill forwarding; log, back off, go on.
                    lastError = Failures.describe(e);
                    LOG.error("forwarder loop error; backing off", e);
                    work = 0;
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                }
                idle = work > 0 ? 0 : idle(idle);
            }
        } finally {
            shutDown();
        }
    }

    /** Opens the tailer right after the checkpoint and creates the producer. Called by {@link #run}. */
    void open() {
        producer = producers.get();
        tailer = spool.createTailer();
        long cp = checkpoint.read();
        readFrom = cp == Checkpoint.NONE ? Long.MIN_VALUE : cp + 1;
        if (cp != Checkpoint.NONE && !tailer.moveToIndex(cp)) {
            tailer.toStart(); // the checkpoint's roll file is gone; readFrom skips what is before it
        }
        lastForceNanos = nanoClock.getAsLong();
        LOG.info("forwarding spool {} (source {}) from checkpoint {} to {} as {}", spool.dir(), sourceId,
                cp, kafka.brokers(), state);
    }

    /** One duty cycle; returns the amount of work done (0: nothing to do). */
    int doWork(long now) {
        int work = settle();
        if (roomRequested) {
            roomRequested = false;
            work += dropOldestRollFile();
        }
        switch (state) {
            case CONNECTING -> work += connect(now);
            case FORWARDING -> work += retryNeeded ? backOff(now, null) : stalled(now) ? replaceStalledProducer(now)
                    : send(now);
            case BACKING_OFF -> work += recover(now);
            default -> {
            }
        }
        inFlight = window.size();
        if (now - lastConnectionPollNanos >= CONNECTION_POLL_NANOS) {
            pollConnections();
            lastConnectionPollNanos = now;
        }
        if (now - lastForceNanos >= forceIntervalNanos) {
            checkpoint.force();
            lastForceNanos = now;
            retention.apply(checkpoint.read(), System.currentTimeMillis()); // only behind the forced checkpoint
        }
        if (draining) {
            boolean done = state == State.FORWARDING && caughtUp && window.isEmpty() && unsent == null;
            if (done || now - drainDeadlineNanos >= 0) {
                if (!done) {
                    LOG.warn("drain time-out: {} records sent and unacknowledged, checkpoint {}; the rest stays"
                            + " in the spool for the next start", window.size(), checkpoint.read());
                }
                finished = true;
            }
        }
        return work;
    }

    /**
     * Turns the producer's connection metrics into kafka_connections_established (new connections) and
     * kafka_connection_errors (connections lost to a cluster we were connected to, and failed
     * authentications). Kafka's client does not count failed connection attempts, only these.
     */
    private void pollConnections() {
        double created = 0;
        double count = 0;
        double authFailed = 0;
        for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
            MetricName name = m.getKey();
            if (!"producer-metrics".equals(name.group()) || !(m.getValue().metricValue() instanceof Double v)) {
                continue;
            }
            switch (name.name()) {
                case "connection-creation-total" -> created = v;
                case "connection-count" -> count = v;
                case "failed-authentication-total" -> authFailed = v;
                default -> {
                }
            }
        }
        if (created < lastConnectionsCreated || authFailed < lastAuthFailures) {
            lastConnectionsCreated = 0; // a new producer starts its counts again
            lastAuthFailures = 0;
        }
        if (created > lastConnectionsCreated) {
            observer.connectionsEstablished((long) (created - lastConnectionsCreated));
        }
        long errors = (long) (authFailed - lastAuthFailures) + (lastConnectionCount > 0 && count == 0 ? 1 : 0);
        if (errors > 0) {
            observer.connectionErrors(errors);
        }
        lastConnectionsCreated = created;
        lastAuthFailures = authFailed;
        lastConnectionCount = count;
    }

    /** Pops settled entries off the head of the window and advances the checkpoint over them. */
    private int settle() {
        int settled = 0;
        long advancedTo = Checkpoint.NONE;
        InFlight head;
        while ((head = window.peekFirst()) != null && head.settled()) {
            switch (head.state()) {
                case InFlight.ACKED -> delivered++;
                case InFlight.FAILED -> {
                    if (!Failures.isPermanent(head.error())) {
                        retryNeeded = true;
                        return finishSettle(settled, advancedTo);
                    }
                    if (!deadLetter(head)) {
                        return finishSettle(settled, advancedTo);
                    }
                }
                default -> {
                }
            }
            window.pollFirst();
            advancedTo = head.index;
            settled++;
        }
        return finishSettle(settled, advancedTo);
    }

    private int finishSettle(int settled, long advancedTo) {
        if (advancedTo != Checkpoint.NONE) {
            checkpoint.advance(advancedTo);
            listener.onCheckpoint(advancedTo);
            if (state == State.FORWARDING) {
                backoffMs = INITIAL_BACKOFF_MS;
            }
        }
        return settled;
    }

    private boolean deadLetter(InFlight failed) {
        String reason = Failures.describe(failed.error());
        try {
            SpoolRecord.Entry e = failed.entry;
            deadLetters.append(e.type(), e.appendTimeMs(), e.keyBytes(), e.payload(),
                    reason.getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException | Error e) {
            lastError = "cannot write the dead-letter spool: " + e;
            LOG.error("cannot write record {} to the dead-letter spool; will retry", failed.index, e);
            return false;
        }
        deadLettered++;
        observer.deadLettered();
        LOG.warn("record {} ({}) rejected by Kafka for good, moved to the dead-letter spool: {}",
                failed.index, failed.entry.type(), reason);
        listener.onDeadLetter(failed.index, reason);
        return true;
    }

    private int connect(long now) {
        if (now < nextAttemptNanos) {
            return 0;
        }
        try {
            ClusterCheck.run(kafka, Math.min(kafka.startup().timeoutMs(), 5_000));
            observer.connectionsEstablished(1);
            transition(State.FORWARDING, "connected to " + kafka.brokers());
            backoffMs = INITIAL_BACKOFF_MS;
            return 1;
        } catch (ClusterCheck.ClusterCheckException e) {
            observer.connectionErrors(1);
            if (!e.getMessage().equals(lastConnectError)) {
                LOG.warn("cannot use Kafka yet, spooling meanwhile: {}", e.getMessage());
                lastConnectError = e.getMessage();
            }
            lastError = e.getMessage();
            nextAttemptNanos = now + TimeUnit.MILLISECONDS.toNanos(backoffMs);
            backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
            return 0;
        }
    }

    private int send(long now) {
        int sent = 0;
        while (sent < kafka.batchSize() && window.size() < capacity) {
            SpoolRecord.Entry entry = unsent != null ? unsent : readNext();
            if (entry == null) {
                caughtUp = true;
                skipUnterminatedRollFile(now);
                break;
            }
            caughtUp = false;
            stuckSinceNanos = 0;
            unsent = null;
            sent++;
            if (alreadyDelivered.remove(entry.index())) {
                window.addLast(InFlight.acknowledged(entry.index()));
                continue;
            }
            InFlight f = new InFlight(entry, now, raiseRetry, observer);
            window.addLast(f);
            try {
                producer.send(KafkaMessages.toProducerRecord(topics[entry.type().ordinal()], entry.type(),
                        entry.keyBytes(), entry.payload(), sourceIdHeader, entry.index()), f);
            } catch (RuntimeException e) {
                // Thrown, not called back: the producer is closed or broken, or we were interrupted.
                window.pollLast();
                unsent = entry;
                return sent + backOff(now, e);
            }
            if (retryNeeded) {
                break;
            }
        }
        return sent;
    }

    /**
     * How long the oldest record may wait for its acknowledgement before the producer is presumed stuck:
     * three request time-outs, at least 15 s. Seen in practice: after a broker is killed and restarted, an
     * idempotent producer can retry OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms (2 min) runs out.
     */
    static long stallTimeoutMs(ForwarderConfig.Kafka kafka) {
        return Math.max(15_000, 3L * (kafka.requestTimeoutMs() + kafka.lingerMs()));
    }

    private boolean stalled(long now) {
        InFlight head = window.peekFirst();
        return head != null && !head.settled() && head.entry != null && now - head.sentNanos > stallNanos;
    }

    /** Fails every in-flight send by closing the producer at once; recover() then resends with a new one. */
    private int replaceStalledProducer(long now) {
        InFlight head = window.peekFirst();
        String why = "no acknowledgement for record " + head.index + " in "
                + TimeUnit.NANOSECONDS.toSeconds(now - head.sentNanos) + " s; replacing the producer";
        LOG.warn(why);
        lastError = why;
        producerBroken = true;
        producer.close(Duration.ZERO);
        return backOff(now, null);
    }

    /** The next record after {@code readFrom}; corrupt ones are counted, logged and settled as skipped. */
    private SpoolRecord.Entry readNext() {
        while (window.size() < capacity) {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return null;
                }
                long index = dc.index();
                if (index < readFrom) {
                    continue;
                }
                if (!plausible(index)) {
                    // Zeros or garbage where a document header should be (a truncated roll file): there is
                    // nothing more to read in this file. skipUnterminatedRollFile() moves on if later files exist.
                    dc.rollbackOnClose();
                    return null;
                }
                boolean firstTime = index > highestRead;
                highestRead = Math.max(highestRead, index);
                net.openhft.chronicle.bytes.Bytes<?> bytes = dc.wire().bytes();
                long start = bytes.readPosition();
                try {
                    return SpoolRecord.decode(index, bytes);
                } catch (SpoolRecord.CorruptRecordException e) {
                    if (firstTime) {
                        corrupt++;
                        observer.corrupt();
                        bytes.readPosition(start);
                        Path copy = quarantine(index, bytes.toByteArray(), e.getMessage());
                        LOG.error("spool record {} is corrupt ({}); skipped, copied to {}", index, e.getMessage(), copy);
                    }
                    window.addLast(InFlight.skipped(index));
                }
            }
        }
        return null;
    }

    /**
     * Keeps a copy of a corrupt record for a person to look at: {@code quarantine/<spool index>.record}
     * (its bytes as found) and {@code .reason}. Best effort: the record is skipped and counted either way.
     */
    private Path quarantine(long index, byte[] raw, String reason) {
        Path dir = spool.dir().resolve("quarantine");
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve(index + ".record"), raw);
            Files.writeString(dir.resolve(index + ".reason"), reason + "\n", StandardCharsets.UTF_8);
            return dir.resolve(index + ".record");
        } catch (IOException e) {
            LOG.warn("cannot copy corrupt record {} to {}: {}", index, dir, e.toString());
            return null;
        }
    }

    /** An index of a roll cycle that exists: a damaged header can yield any number. */
    private boolean plausible(long index) {
        int c = spool.queue().rollCycle().toCycle(index);
        return c >= spool.queue().firstCycle() && c <= spool.queue().lastCycle();
    }

    /**
     * A roll file normally ends with an end-of-file marker, written when its cycle is over. One that was
     * truncated, or whose writer died mid-record, has none: the reader would wait at its end forever while
     * later files hold records. After 2 s with nothing to read here and a later roll file present, move on
     * to it. The records after the damage in the old file cannot be read (nor counted: the damage took them).
     */
    private void skipUnterminatedRollFile(long now) {
        int current = tailer.cycle();
        int last = spool.queue().lastCycle();
        if (last <= current) {
            stuckSinceNanos = 0;
            return;
        }
        if (stuckSinceNanos == 0 || stuckCycle != current) {
            stuckSinceNanos = now;
            stuckCycle = current;
            return;
        }
        if (now - stuckSinceNanos < TimeUnit.SECONDS.toNanos(2)) {
            return;
        }
        // Chronicle lists between cycles that exist: ask for all of them and take the next after this one.
        Long later = spool.queue().listCyclesBetween(spool.queue().firstCycle(), last).higher((long) current);
        if (later == null) {
            return;
        }
        int next = later.intValue();
        LOG.error("roll file {} ends without an end-of-file marker (truncated, or its writer died mid-record)"
                + " while later roll files exist; the records after the damage cannot be read; moving on to the"
                + " next roll file", retention.fileFor(current).getName());
        tailer.moveToCycle(next);
        stuckSinceNanos = 0;
    }

    private int backOff(long now, Exception cause) {
        if (cause != null && Failures.breaksProducer(cause)) {
            producerBroken = true;
        }
        InFlight head = window.peekFirst();
        Exception reason = cause != null ? cause : firstFailure();
        if (reason != null) {
            lastError = Failures.describe(reason);
        }
        nextAttemptNanos = now + TimeUnit.MILLISECONDS.toNanos(backoffMs);
        transition(State.BACKING_OFF, "send failed (" + lastError + "); resending from record "
                + (head != null ? head.index : unsent != null ? unsent.index() : "?") + " in " + backoffMs + " ms");
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        return 0;
    }

    private Exception firstFailure() {
        for (InFlight f : window) {
            if (f.state() == InFlight.FAILED) {
                if (Failures.breaksProducer(f.error())) {
                    producerBroken = true;
                }
                return f.error();
            }
        }
        return null;
    }

    /** Waits for the window to settle and the back-off to pass, then rewinds and resends. */
    private int recover(long now) {
        if (now < nextAttemptNanos) {
            return 0;
        }
        for (InFlight f : window) {
            if (!f.settled()) {
                return 0;
            }
        }
        settle();
        long rewindTo = Long.MIN_VALUE;
        alreadyDelivered.clear();
        for (InFlight f : window) {
            if (f.state() == InFlight.FAILED && Failures.breaksProducer(f.error())) {
                producerBroken = true;
            }
            if (rewindTo == Long.MIN_VALUE) {
                rewindTo = f.index;
            }
            if (f.state() == InFlight.ACKED) {
                alreadyDelivered.add(f.index); // counted as delivered when it settles again, in order
            }
        }
        if (rewindTo == Long.MIN_VALUE && unsent != null) {
            rewindTo = unsent.index();
        }
        window.clear();
        unsent = null;
        caughtUp = false;
        if (rewindTo != Long.MIN_VALUE) {
            readFrom = rewindTo;
            if (!tailer.moveToIndex(rewindTo)) {
                tailer.toStart();
            }
        }
        if (producerBroken) {
            LOG.info("replacing the Kafka producer after: {}", lastError);
            producer.close(Duration.ZERO);
            producer = producers.get();
            producerBroken = false;
        }
        retryNeeded = false;
        transition(State.FORWARDING, "resending from record " + rewindTo);
        return 1;
    }

    /** With on_full = drop_oldest, a publisher found the spool full: discard the oldest roll file. */
    public void requestRoom() {
        roomRequested = true;
    }

    /**
     * Makes room by discarding the oldest roll file, forwarded or not ({@code on_full = drop_oldest}). Its
     * records after the checkpoint are counted as lost; the checkpoint moves past it and forwarding goes on
     * from the next roll file (records of that file already in flight are sent again). The roll file being
     * appended to is never discarded: when it is the only one, nothing is, and publish drops the new record.
     */
    private int dropOldestRollFile() {
        net.openhft.chronicle.queue.impl.single.SingleChronicleQueue queue = spool.queue();
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || first >= last) {
            return 0;
        }
        java.util.NavigableSet<Long> cycles = queue.listCyclesBetween(first, last);
        long oldest = cycles.first();
        Long next = cycles.higher(oldest);
        if (next == null) {
            return 0;
        }
        net.openhft.chronicle.queue.RollCycle rollCycle = queue.rollCycle();
        long nextStart = rollCycle.toIndex(next.intValue(), 0);
        long cycleStart = rollCycle.toIndex((int) oldest, 0);
        long inCycle = queue.countExcerpts(cycleStart, nextStart);
        long cp = checkpoint.read();
        long settledInCycle = cp < cycleStart ? 0
                : rollCycle.toCycle(cp) > oldest ? inCycle : rollCycle.toSequenceNumber(cp) + 1;
        long discarded = Math.max(0, inCycle - settledInCycle);
        window.clear();
        unsent = null;
        alreadyDelivered.clear();
        caughtUp = false;
        checkpoint.advance(nextStart - 1);
        readFrom = nextStart;
        if (!tailer.moveToIndex(nextStart)) {
            tailer.toStart();
        }
        java.io.File file = retention.fileFor((int) oldest);
        boolean deleted = file.delete();
        queue.refreshDirectoryListing();
        lost += discarded;
        observer.lost(discarded);
        LOG.warn("spool full (on_full = drop_oldest): discarded roll file {}{} with {} unforwarded records",
                file.getName(), deleted ? "" : " (could not delete it)", discarded);
        listener.onCheckpoint(nextStart - 1);
        return 1;
    }

    /** Stops the loop at its next cycle, without draining (after a drain that overran). */
    public void abort() {
        finished = true;
    }

    /** Asks the loop to finish: forward what is spooled, at most until {@code deadlineNanos}. */
    public void drain(long deadlineNanos) {
        drainDeadlineNanos = deadlineNanos;
        draining = true;
    }

    private void shutDown() {
        try {
            if (producer != null) {
                producer.close(window.isEmpty() ? Duration.ofSeconds(5) : Duration.ZERO);
            }
        } catch (RuntimeException e) {
            LOG.warn("closing the Kafka producer failed", e);
        }
        try {
            settle(); // whatever completed during close
        } catch (RuntimeException e) {
            LOG.warn("settling at close failed", e);
        }
        checkpoint.force();
        try {
            retention.apply(checkpoint.read(), System.currentTimeMillis());
            if (tailer != null) {
                tailer.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("cleaning up the spool at close failed", e);
        }
        transition(State.CLOSED, "checkpoint " + checkpoint.read());
    }

    private void transition(State next, String why) {
        if (state != next) {
            LOG.info("forwarder {} -> {}: {}", state, next, why);
            state = next;
        }
    }

    private static int idle(int idleCount) {
        if (idleCount < 10) {
            Thread.onSpinWait();
        } else if (idleCount < 20) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(Math.min(TimeUnit.MILLISECONDS.toNanos(1), 1000L << Math.min(10, idleCount - 20)));
        }
        return idleCount + 1;
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

    public int inFlight() {
        return inFlight;
    }

    public String lastError() {
        return lastError;
    }
}
