package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolDamage;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seeded simulation of {@code delivery = exactly_once}: the real spool, checkpoint, reader, dead letters
 * and agent against a simulated transactional Kafka (what read_committed consumers see, the committed
 * positions, producer epochs) and a simulated clock. Each seed draws publishes (some records Kafka refuses
 * for good), duty cycles, a broker that goes away (sends and commits time out; a commit may take effect
 * although it timed out: a commit in doubt; an abort or initTransactions may time out), corrupt records,
 * a spool that fills up under each {@code on_full}, crashes at any step (the open transaction is left
 * to the next producer of the transactional id), OS crashes (the spool goes back to what the last writeback
 * put on the disk, DiskImage; a new boot id), other forwarders on the prefix whose transactions on the
 * positions topic are open, committed, aborted or abandoned (the product's own read, {@code Positions.read},
 * runs against that topic: SimPositions), and time passing past {@code transaction.timeout.ms} (the
 * coordinator aborts what is open, and a live producer finds its epoch bumped). Then the faults are healed,
 * the spool is drained, and:
 *
 * <ul>
 *   <li>no record is committed twice (what a read_committed consumer reads has no duplicate);
 *   <li>every accepted record that Kafka did not refuse is committed, unless counted lost (drop_oldest);
 *       nothing committed was not accepted, no refused record is committed, and the dead-letter spool holds
 *       only refused records;
 *   <li>per key, committed records follow spool order;
 *   <li>the committed position of the spool is its checkpoint, and the checkpoint its last record;
 *   <li>a (source_id, spool_index) pair never names two committed records, across every crash.
 * </ul>
 *
 * {@code -Dsim.seed=N} replays a seed; {@code -Dsim.seeds=N} runs N (1,000 by default, in CI).
 */
class ExactlyOnceSimulationTest {

    private static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4"};

    @TempDir
    Path tmp;

    @Test
    void noRecordIsCommittedTwiceAndNoneIsLostUnderRandomFaults() throws Exception {
        SimulationHarness.runSeeds("exactly-once simulation", tmp, 1000, (seed, dir) -> {
            try (Simulation sim = new Simulation(seed, dir)) {
                sim.run();
            }
        });
    }

    private static final class Simulation implements AutoCloseable {
        final long seed;
        final Random rnd;
        final Path dir;
        final SimulationHarness.Clock clock = new SimulationHarness.Clock();
        final ForwarderConfig.Kafka kafka;
        final ForwarderConfig.OnFull onFull;
        final long block = 64 << 10;
        final long maxBytes;

        // The simulated cluster: what read_committed consumers see, the positions topic, other forwarders.
        final List<Long> committed = new ArrayList<>();
        final List<String> committedKeys = new ArrayList<>();
        final SimPositions positions;
        /** Every transaction of this spool's producers (a crashed one's stays open until an init or its time-out). */
        final List<SimPositions.Txn> ours = new ArrayList<>();

        final List<FleetMember> fleet = new ArrayList<>();
        final long transactionTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(60_000);
        int epoch;
        boolean brokerDown;
        SimProducer producer;
        final DiskImage disk;
        String bootId = "boot-0";
        int osCrashes;
        int timedOutTransactions;

        // The simulated process.
        Spool spool;
        Spool deadLetterSpool;
        Checkpoint checkpoint;
        SpaceGuard space;
        SpaceGuard deadLetterSpace;
        ForwarderAgent agent;

        final RecordLedger ledger = new RecordLedger();
        long lost;
        int crashes;

        Simulation(long seed, Path dir) throws IOException {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.dir = dir;
            this.onFull = ForwarderConfig.OnFull.values()[rnd.nextInt(2)]; // drop_newest or drop_oldest
            this.maxBytes = block * (8 + rnd.nextInt(24));
            this.kafka = ForwarderConfig.parse("gateway.observability.kafka { delivery = exactly_once, batch_size = "
                            + (1 + rnd.nextInt(6)) + ", linger_ms = " + rnd.nextInt(20) + ", spool { dir = \"" + dir
                            + "\", on_full = " + onFull.name().toLowerCase() + ", checkpoint_interval_ms = "
                            + (100 + rnd.nextInt(1000)) + " }" + SimulationHarness.smallBufferMemory(seed) + " }")
                    .kafka();
            deadLetterSpool =
                    new Spool(dir.resolve("dead-letter"), spoolSettings().rollBytes(0));
            deadLetterSpace = SpaceGuard.measuredByCaller(deadLetterSpool, maxBytes, block, () -> 1L << 40);
            positions = new SimPositions(kafka.positionsTopic(), clock, this::expireTransactions);
            for (int i = rnd.nextInt(3); i > 0; i--) {
                fleet.add(new FleetMember(new UUID(seed, i)));
            }
            disk = new DiskImage(dir);
            open();
            disk.writeback();
            ledger.writtenBack();
        }

        /** Another forwarder on the prefix: it writes its positions to the same topic, in transactions. */
        final class FleetMember {
            final UUID source;
            long next;
            SimPositions.Txn open;

            FleetMember(UUID source) {
                this.source = source;
            }
        }

        long now() {
            return clock.now();
        }

        /** Roll files of a second, and by size as the product rolls them (a quarter of max_bytes). */
        Spool.Settings spoolSettings() {
            return Spool.Settings.defaults()
                    .rollPeriod(RollPeriod.SECONDLY)
                    .rollBytes(maxBytes / 4)
                    .blockSize(block)
                    .wallClock(this::epochMillis);
        }

        long epochMillis() {
            return clock.epochMillis();
        }

        void open() throws IOException {
            spool = new Spool(dir, spoolSettings());
            spool.prepareForAppends(true, bootId); // as OpenSpool does before the first append
            checkpoint = new Checkpoint(dir.resolve("checkpoint"));
            space = SpaceGuard.measuredByCaller(spool, maxBytes, block, () -> 1L << 40);
            agent = new ForwarderAgent(
                    spool,
                    deadLetterSpool,
                    deadLetterSpace,
                    checkpoint,
                    space,
                    kafka,
                    new ForwarderWiring(
                            this::newProducer,
                            null,
                            Settlements.NONE,
                            DeliveryObserver.NONE,
                            this::now,
                            this::epochMillis,
                            this::readPosition));
            agent.onStart();
        }

        SimProducer newProducer() {
            producer = new SimProducer();
            return producer;
        }

        long readPosition(UUID source) {
            if (brokerDown && rnd.nextInt(3) == 0) {
                throw new TimeoutException("reading the positions topic timed out");
            }
            return positions.read(source);
        }

        /**
         * The transaction coordinator aborts every transaction open longer than transaction.timeout.ms; a live
         * producer of this spool whose transaction it aborted finds its epoch bumped at its next call.
         */
        void expireTransactions() {
            long now = now();
            for (FleetMember m : fleet) {
                if (m.open != null && now - m.open.beganNanos > transactionTimeoutNanos) {
                    positions.abort(m.open);
                    m.open = null;
                }
            }
            for (SimPositions.Txn t : ours) {
                if (t.open && now - t.beganNanos > transactionTimeoutNanos) {
                    positions.abort(t);
                    timedOutTransactions++;
                    if (producer != null && producer.txn == t) {
                        producer.timedOut = true;
                    }
                }
            }
        }

        /** A forwarder of the fleet begins a transaction with its position, or ends the one it has open. */
        void fleetMember(boolean begin) {
            if (fleet.isEmpty()) {
                return;
            }
            FleetMember m = fleet.get(rnd.nextInt(fleet.size()));
            if (begin && m.open == null) {
                m.open = positions.begin();
                positions.write(m.open, m.source, m.next++);
            } else if (!begin && m.open != null) {
                if (rnd.nextInt(4) == 0) {
                    positions.abort(m.open);
                } else {
                    positions.commit(m.open);
                }
                m.open = null;
            }
        }

        void run() throws Exception {
            int steps = 150 + rnd.nextInt(250);
            for (int step = 0; step < steps; step++) {
                expireTransactions();
                int action = rnd.nextInt(100);
                if (action < 33) {
                    publish(1 + rnd.nextInt(4));
                } else if (action < 66) {
                    cycles(1 + rnd.nextInt(4));
                } else if (action < 78) {
                    clock.advance(rnd.nextInt(300), TimeUnit.MILLISECONDS);
                    if (rnd.nextBoolean()) { // the pretoucher's round: the next roll file and cycle mark, ahead
                        spool.rollAhead(rnd.nextInt(8) == 0 ? rnd.nextInt(1 << 20) : space.roomToTouch());
                    }
                } else if (action < 84) {
                    brokerDown = !brokerDown;
                } else if (action < 86) {
                    SpoolDamage.appendGarbage(spool, ("damage of seed " + seed).getBytes(StandardCharsets.UTF_8));
                } else if (action < 90) {
                    crash();
                } else if (action < 93) {
                    fleetMember(true);
                } else if (action < 96) {
                    fleetMember(false);
                } else if (action == 96) {
                    clock.advance(20 + rnd.nextInt(70), TimeUnit.SECONDS); // transactions time out
                } else if (action == 97) {
                    disk.writeback();
                    ledger.writtenBack();
                } else if (action == 98 && rnd.nextInt(3) == 0) {
                    osCrash();
                } else {
                    space.measure();
                }
            }
            heal();
            check();
        }

        void publish(int n) {
            for (int i = 0; i < n; i++) {
                long id = ledger.nextId();
                boolean isPoison = rnd.nextInt(30) == 0;
                String key = KEYS[rnd.nextInt(KEYS.length)];
                byte[] json = RecordLedger.recordJson(id, key, isPoison, rnd);
                byte[] keyBytes = MessageKeys.keyOf(json).getBytes(StandardCharsets.UTF_8);
                int size = SpoolRecord.encodedSize(keyBytes, json, null);
                if (!space.admits(size)) {
                    if (onFull == ForwarderConfig.OnFull.DROP_OLDEST && agent.canDiscard()) {
                        agent.requestRoom(size);
                        cycles(2);
                        space.measure();
                    }
                    if (!space.admits(size)) {
                        continue; // dropped, never appended
                    }
                }
                spool.append(DataType.CHAT_INFERENCE, epochMillis(), keyBytes, json, null);
                space.appended(size);
                ledger.accepted(id, isPoison);
            }
        }

        void cycles(int n) {
            for (int i = 0; i < n; i++) {
                agent.doWork(now());
                clock.advance(rnd.nextInt(3000), TimeUnit.MICROSECONDS);
            }
        }

        /** The process dies: its producer's open transaction stays open until the next producer's init. */
        void crash() throws IOException {
            processDies();
            open();
        }

        /** What every crash does: the producer is dead, what the agent counted is kept, the spool is let go. */
        private void processDies() throws IOException {
            crashes++;
            if (producer != null) {
                producer.dead = true;
            }
            producer = null;
            lost += agent.lost();
            space.close();
            checkpoint.close();
            spool.close();
        }

        /**
         * A power loss: the process is gone (its open transaction stays open in Kafka) and the spool is what the
         * last writeback put on the disk (DiskImage); the machine boots with a new boot id. Kafka keeps what it
         * committed, the records the crash took from the spool included.
         */
        void osCrash() throws IOException {
            osCrashes++;
            processDies();
            disk.crash(rnd.nextBoolean());
            ledger.lostWithThePageCache();
            bootId = "boot-" + osCrashes;
            open();
        }

        void heal() {
            brokerDown = false;
            for (FleetMember m : fleet) {
                if (m.open != null) {
                    positions.commit(m.open);
                    m.open = null;
                }
            }
            for (int i = 0; i < 200_000; i++) {
                agent.doWork(now());
                clock.advance(5, TimeUnit.MILLISECONDS);
                // Forwarding: it has read Kafka's position since its last start, and the checkpoint follows it
                // (before, a run that ended while the producer still retried its start could find the checkpoint
                // an OS crash had put back, behind a position Kafka committed for records the crash took).
                if (agent.state() == ForwarderStatus.State.FORWARDING
                        && agent.inFlight() == 0
                        && spool.query().countAfter(checkpoint.read()) == 0
                        // Ahead only after an OS crash took records Kafka had committed (appends moved on).
                        && (checkpoint.read() == spool.lastIndex()
                                || osCrashes > 0 && checkpoint.read() > spool.lastIndex())) {
                    lost += agent.lost();
                    return;
                }
            }
            fail("the spool did not drain after the faults were healed: state " + agent.state() + ", in flight "
                    + agent.inFlight() + ", checkpoint " + checkpoint.read() + ", last index " + spool.lastIndex()
                    + ", last error " + agent.lastError());
        }

        void check() {
            Set<Long> inTopic = new HashSet<>();
            for (long id : committed) {
                if (!inTopic.add(id)) {
                    fail("record " + id + " was committed twice (" + crashes + " crashes)");
                }
            }
            ledger.checkWhereRecordsWent(inTopic, RecordLedger.readDeadLetters(deadLetterSpool, now()), lost, onFull);
            Map<String, Long> last = new HashMap<>();
            for (int i = 0; i < committed.size(); i++) {
                Long before = last.put(committedKeys.get(i), committed.get(i));
                if (before != null && before > committed.get(i)) {
                    fail("key " + committedKeys.get(i) + ": record " + committed.get(i) + " committed after " + before);
                }
            }
            long position = positions.committedPosition(spool.sourceId());
            if (spool.lastIndex() >= 0 && position != checkpoint.read()) {
                fail("the committed position " + position + " is not the checkpoint " + checkpoint.read());
            }
        }

        @Override
        public void close() throws IOException {
            space.close();
            deadLetterSpace.close();
            checkpoint.close();
            deadLetterSpool.close();
            spool.close();
            disk.delete();
        }

        /**
         * A transactional producer of the simulated cluster. Sends are buffered in the open transaction and
         * become visible at its commit; a newer producer's initTransactions fences this one.
         */
        final class SimProducer extends MockProducer<byte[], byte[]> {
            boolean dead;
            /** The coordinator aborted its transaction for its time-out: its epoch is stale. */
            boolean timedOut;

            SimPositions.Txn txn;
            private int myEpoch = -1;
            private boolean open;
            private boolean failed;
            private final List<Long> ids = new ArrayList<>();
            private final List<String> keys = new ArrayList<>();
            private final List<String> identities = new ArrayList<>();

            SimProducer() {
                super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
            }

            private void check() {
                if (dead) {
                    throw new IllegalStateException("the process is gone");
                }
                if (myEpoch != epoch) {
                    throw new ProducerFencedException("fenced (epoch " + myEpoch + " < " + epoch + ")");
                }
                if (timedOut) {
                    throw new InvalidProducerEpochException("Producer attempted to produce with an old epoch.");
                }
            }

            @Override
            public synchronized void initTransactions() {
                if (brokerDown && rnd.nextInt(2) == 0) {
                    throw new TimeoutException("Timeout expired while initializing transactional state");
                }
                epoch++; // ends the open transaction of an earlier producer: it never commits
                myEpoch = epoch;
                for (SimPositions.Txn t : ours) {
                    if (t.open) {
                        positions.abort(t);
                    }
                }
            }

            @Override
            public synchronized void beginTransaction() {
                check();
                if (open) {
                    throw new IllegalStateException("TransactionalId: Invalid transition attempted from state"
                            + " IN_TRANSACTION to state IN_TRANSACTION");
                }
                open = true;
                failed = false;
                ids.clear();
                keys.clear();
                identities.clear();
                txn = positions.begin();
                ours.add(txn);
            }

            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
                check();
                if (!open) {
                    throw new IllegalStateException("no transaction open");
                }
                if (failed) {
                    throw new KafkaException("Cannot perform send because at least one previous transactional or"
                            + " idempotent request has failed with errors.");
                }
                if (record.topic().equals(kafka.positionsTopic())) {
                    UUID source = UUID.fromString(new String(record.key(), StandardCharsets.UTF_8));
                    String value = new String(record.value(), StandardCharsets.UTF_8);
                    int at = value.indexOf("\"spool_index\":") + 14;
                    positions.write(txn, source, Long.parseLong(value.substring(at, value.indexOf(',', at))));
                    return CompletableFuture.completedFuture(null);
                }
                long id = RecordLedger.idOf(record.value());
                Exception error = RecordLedger.isPoison(record.value())
                        ? new RecordTooLargeException("the record is too large")
                        : brokerDown && rnd.nextInt(3) == 0
                                ? new TimeoutException("Expiring record: broker down")
                                : null;
                if (error != null) {
                    failed = true;
                    callback.onCompletion(null, error);
                    return CompletableFuture.failedFuture(error);
                }
                ids.add(id);
                keys.add(new String(record.key(), StandardCharsets.UTF_8));
                identities.add(RecordLedger.identity(record));
                callback.onCompletion(new RecordMetadata(new TopicPartition(record.topic(), 0), 0, 0, 0, 0, 0), null);
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public synchronized void commitTransaction() {
                check();
                if (failed) {
                    throw new KafkaException("Cannot execute transactional method because we are in an error state");
                }
                if (brokerDown) {
                    if (rnd.nextBoolean()) {
                        apply(); // the commit took effect, its answer was lost: in doubt
                    }
                    throw new TimeoutException("Timeout expired after 5000ms while awaiting EndTxn(true)");
                }
                apply();
            }

            private void apply() {
                committed.addAll(ids);
                committedKeys.addAll(keys);
                for (int i = 0; i < ids.size(); i++) {
                    ledger.identified(identities.get(i), ids.get(i));
                }
                positions.commit(txn);
                open = false;
                ids.clear();
                keys.clear();
                identities.clear();
            }

            @Override
            public synchronized void abortTransaction() {
                check();
                if (brokerDown && rnd.nextInt(3) == 0) {
                    throw new TimeoutException("Timeout expired after 5000ms while awaiting EndTxn(false)");
                }
                positions.abort(txn);
                open = false;
                failed = false;
                ids.clear();
                keys.clear();
                identities.clear();
            }

            @Override
            public synchronized void close(Duration timeout) {
                dead = true; // its open transaction is never committed
            }
        }
    }
}
