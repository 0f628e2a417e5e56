package dev.forwarder.internal.forward;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolReader;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forwarder's work, an Agrona {@link Agent}: {@link #doWork} does a bounded amount of work and returns
 * how much; {@link ForwarderRunner} owns the thread and takes its errors. The agent owns the state (with the
 * transitions {@link #NEXT} allows), the last error, the back-off and the drain; one duty cycle reads as its
 * parts:
 *
 * <ol>
 *   <li>settle what completed ({@link Delivery#settle}, counted by the {@link Settler});
 *   <li>make room if a publisher asked ({@link RoomMaker}, {@code on_full = drop_oldest});
 *   <li>the state's step: connect ({@link ProducerConnection}, then {@link Delivery#start}), forward
 *       ({@link Delivery#step}) or, once the back-off has passed, recover ({@link Delivery#recover});
 *   <li>poll the connection metrics, keep the checkpoint ({@link CheckpointKeeper}), end a drain.
 * </ol>
 *
 * The delivery mode ({@link AtLeastOnceDelivery}, {@link ExactlyOnceDelivery}) returns what each step came
 * to as an {@link Outcome}; only this class acts on it. States, the window, transactions, failures, order and
 * crashes are described in {@code package-info.java}. All state is owned by the forwarder thread; other
 * threads read the counts and the state, and ask for room or the drain.
 */
public final class ForwarderAgent implements Agent {

    private static final Logger LOG = LoggerFactory.getLogger(ForwarderAgent.class);

    /** The transitions a forwarder may make (to itself: no transition). DRAINING is FORWARDING while draining. */
    private static final Map<State, Set<State>> NEXT = Map.of(
            State.CONNECTING, EnumSet.of(State.FORWARDING, State.FENCED, State.CLOSED),
            State.FORWARDING, EnumSet.of(State.BACKING_OFF, State.FENCED, State.CLOSED),
            State.BACKING_OFF, EnumSet.of(State.FORWARDING, State.FENCED, State.CLOSED),
            State.FENCED, EnumSet.of(State.CLOSED),
            State.CLOSED, EnumSet.noneOf(State.class));

    private final Spool spool;
    private final Checkpoint checkpoint;
    private final ForwarderConfig.Kafka kafka;
    private final ForwarderWiring wiring;
    private final SpoolReader reader;
    private final Settler settler;
    private final ProducerConnection connection;
    private final Delivery delivery;
    private final RoomMaker room;
    private final CheckpointKeeper keeper;
    private final SourceFork fork;
    private final Backoff backoff = new Backoff();
    private boolean started;

    private volatile State state = State.CONNECTING;
    private volatile boolean draining;
    private volatile long drainDeadlineNanos;
    private volatile boolean finished;
    private volatile int inFlight;
    private volatile String lastError;

    public ForwarderAgent(
            Spool spool,
            Spool deadLetterSpool,
            SpaceGuard deadLetterSpace,
            Checkpoint checkpoint,
            SpaceGuard space,
            ForwarderConfig.Kafka kafka,
            ForwarderWiring wiring) {
        this.spool = spool;
        this.checkpoint = checkpoint;
        this.kafka = kafka;
        this.wiring = wiring;
        this.reader = new SpoolReader(spool, new ReaderEvents());
        this.settler = new Settler(
                spool,
                new DeadLetters(
                        deadLetterSpool,
                        deadLetterSpace,
                        kafka.spool().deadLetters().retain()),
                checkpoint,
                wiring.settlements(),
                wiring.observer(),
                why -> lastError = why);
        this.connection = new ProducerConnection(wiring.producers(), wiring.probe(), wiring.observer(), roleName());
        this.fork = new SourceFork(spool, checkpoint);
        SpoolMessages messages = new SpoolMessages(spool, kafka);
        this.delivery = kafka.delivery() == ForwarderConfig.Delivery.EXACTLY_ONCE
                ? new ExactlyOnceDelivery(kafka, spool, checkpoint, connection, reader, messages, settler, fork, wiring)
                : new AtLeastOnceDelivery(kafka, connection, reader, messages, settler, wiring);
        RollFiles rollFiles = new RollFiles(spool, kafka.spool().retainForwarded());
        this.room = new RoomMaker(space, rollFiles, checkpoint, reader, settler);
        this.keeper = new CheckpointKeeper(
                spool,
                checkpoint,
                rollFiles,
                TimeUnit.MILLISECONDS.toNanos(kafka.spool().checkpointIntervalMs()),
                kafka.spool().sync() != ForwarderConfig.SyncPolicy.NONE,
                wiring.epochMillis(),
                settler);
    }

    @Override
    public String roleName() {
        return "forwarder-" + spool.dir().getFileName();
    }

    /**
     * On the forwarder thread, before the first duty cycle: a checkpoint ahead of the spool gives the spool a
     * new source id ({@link SourceFork}); the reader goes right after the checkpoint. If that fails (the source
     * id cannot be written), it is tried again with back-off and nothing is forwarded meanwhile.
     */
    @Override
    public void onStart() {
        start(now());
    }

    private int start(long now) {
        try {
            room.finishInterruptedDiscard();
            fork.checkAtStart();
            long cp = checkpoint.read();
            reader.seekAfter(cp);
            keeper.start(now);
            started = true;
            LOG.info(
                    "forwarding spool {} (source {}) from checkpoint {} to {}",
                    spool.dir(),
                    spool.sourceId(),
                    cp,
                    kafka.brokers());
            return 1;
        } catch (RuntimeException e) {
            lastError = "cannot start forwarding: " + Failures.describe(e);
            LOG.error("{}; trying again with back-off", lastError, e);
            backoff.schedule(now);
            return 0;
        }
    }

    @Override
    public int doWork() {
        if (finished) {
            throw new AgentTerminationException(true); // expected: the drain is over
        }
        try {
            return doWork(now());
        } catch (InternalError e) {
            // A mapped file on a full disk faults with InternalError; Agrona's runner rethrows an Error after
            // handling it, which would end the thread. As an exception, the runner counts it and goes on.
            throw new MappedFileFault(e);
        }
    }

    /** One duty cycle at {@code now} (nanoseconds of the injected clock); returns the work done. */
    int doWork(long now) {
        if (!started) {
            return backoff.due(now) ? start(now) : 0;
        }
        int work = settle();
        work += makeRoom(now);
        work += act(step(now), now);
        inFlight = delivery.inFlight();
        connection.pollMetrics(now);
        keeper.tick(now);
        endDrainIfDone(now);
        return work;
    }

    private int settle() {
        int settled = delivery.settle();
        if (settled > 0 && state == State.FORWARDING) {
            backoff.reset();
        }
        return settled;
    }

    /** drop_oldest: a publisher asked for room; the delivery gives up an open transaction first if need be. */
    private int makeRoom(long now) {
        if (!room.requested()) {
            return 0;
        }
        if (!delivery.atBoundary()) {
            return act(delivery.yieldForRoom(now), now);
        }
        return room.makeRoomIfAsked(delivery);
    }

    private Outcome step(long now) {
        return switch (state) {
            case CONNECTING -> connect(now);
            case FORWARDING -> delivery.step(now, draining);
            case BACKING_OFF -> backoff.due(now) ? delivery.recover(now) : Outcome.IDLE;
            default -> Outcome.IDLE;
        };
    }

    /** Gets a producer (the cluster check first when start-up did not run it), with back-off, and starts on it. */
    private Outcome connect(long now) {
        if (!backoff.due(now)) {
            return Outcome.IDLE;
        }
        Outcome notReady = connection.notReady();
        return notReady != null ? notReady : delivery.start(now);
    }

    /** Acts on what a step came to: the only place that changes the state and the last error. */
    private int act(Outcome outcome, long now) {
        switch (outcome.kind()) {
            case READY -> {
                connection.forgetFailures();
                backoff.reset();
                transition(State.FORWARDING, "connected to " + kafka.brokers());
            }
            case FORWARDING -> transition(State.FORWARDING, outcome.message());
            case RETRY -> {
                lastError = outcome.error();
                backoff.schedule(now);
            }
            case BACK_OFF -> {
                if (outcome.error() != null) {
                    lastError = outcome.error();
                }
                long delayMs = backoff.schedule(now);
                transition(
                        State.BACKING_OFF,
                        outcome.message() + " (" + lastError + "); " + outcome.next() + " in " + delayMs + " ms");
            }
            case FENCED -> {
                lastError = outcome.error();
                transition(State.FENCED, outcome.message());
            }
            case WORK -> {}
        }
        return outcome.work();
    }

    private void endDrainIfDone(long now) {
        if (!draining) {
            return;
        }
        boolean done = (state == State.FORWARDING && delivery.drained()) || state == State.FENCED;
        if (done || now - drainDeadlineNanos >= 0) {
            if (!done) {
                LOG.warn(
                        "drain time-out: {} records sent and unsettled, checkpoint {}; the rest stays in the"
                                + " spool for the next start",
                        delivery.inFlight(),
                        checkpoint.read());
            }
            finished = true;
        }
    }

    /**
     * An error on the forwarder thread (a bug, or a fault of the spool), handed over by the runner, which
     * counts it: never the end of forwarding. Said in lastError; forwarding backs off and goes on.
     */
    void onError(Throwable error) {
        Throwable e = error instanceof MappedFileFault ? error.getCause() : error;
        lastError = Failures.describe(e);
        LOG.error("forwarder error; backing off", e);
        backoff.schedule(now());
        if (state == State.FORWARDING) {
            transition(State.BACKING_OFF, lastError);
        }
    }

    /** With on_full = drop_oldest, a publisher found the spool full: discard a roll file if still needed. */
    public void requestRoom(int bytes) {
        room.request(bytes);
    }

    /** Whether a roll file could be discarded now (there is one besides the newest). Any thread. */
    public boolean canDiscard() {
        return room.canDiscard();
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

    /** Ends an open transaction, closes the producer, settles what completed, keeps the checkpoint. */
    @Override
    public void onClose() {
        delivery.close();
        try {
            connection.close(delivery.awaitsAcknowledgements() ? Duration.ZERO : Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.warn("closing the Kafka producer failed", e);
        }
        try {
            delivery.settle(); // whatever completed during close
        } catch (RuntimeException e) {
            LOG.warn("settling at close failed", e);
        }
        keeper.close();
        try {
            reader.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the spool reader failed", e);
        }
        finished = true;
        transition(State.CLOSED, "checkpoint " + checkpoint.read());
    }

    private void transition(State next, String why) {
        State current = state;
        if (current == next) {
            return;
        }
        if (!NEXT.get(current).contains(next)) {
            throw new IllegalStateException(
                    "forwarder: no transition from " + current + " to " + next + " (" + why + ")");
        }
        LOG.info("forwarder {} -> {}: {}", current, next, why);
        state = next;
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
        return settler.delivered();
    }

    public long deadLettered() {
        return settler.deadLettered();
    }

    public long corrupt() {
        return settler.corrupt();
    }

    public long lost() {
        return settler.lost();
    }

    public int inFlight() {
        return inFlight;
    }

    public String lastError() {
        return lastError;
    }

    /** The state and what the delivery holds, for a person reading a log or a failed test. */
    @Override
    public String toString() {
        return "ForwarderAgent[" + state + ", checkpoint " + checkpoint.read() + ", " + delivery + "]";
    }

    /** The reader's news: a corrupt record settles in its turn; an unreadable one stops forwarding there. */
    private final class ReaderEvents implements SpoolReader.CorruptRecords {
        @Override
        public void corrupt(long index, String reason) {
            wiring.settlements().onFate(index, PublishResult.Status.CORRUPT);
            delivery.corrupt(index, now());
        }

        @Override
        public void unreadable(long index, String reason) {
            lastError = reason + "; forwarding waits here (nothing is skipped or deleted): add the key back"
                    + " to the key file and restart";
            LOG.error(lastError);
        }
    }

    /** An {@link InternalError} of a mapped file, carried as an exception to the runner (see {@link #doWork()}). */
    static final class MappedFileFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MappedFileFault(InternalError cause) {
            super(cause.getMessage(), cause);
        }
    }
}
