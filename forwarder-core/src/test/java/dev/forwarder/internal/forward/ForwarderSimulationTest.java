package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.publish.SyncWaiters;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deterministic, seeded simulation of the forwarding core (after Vector's disk-buffer model tests and
 * FoundationDB's simulation): the real spool on a temporary directory, the real checkpoint, reader, window,
 * dead letters and agent, against a simulated Kafka producer and broker and a simulated clock. Each seed
 * draws a run of random actions: publishes from two writers (two spool instances, as two processes would
 * have), acknowledgements out of order across partitions and late, broker outages in which a record may be
 * written although its send failed, records Kafka refuses for good, a topic whose ACL is broken for a
 * while, a producer that cannot be built, a producer that stops calling back, a nearly full disk and a
 * full spool under each {@code on_full}, corrupt records, retention, crashes at any step (the process
 * state is thrown away, the files kept, the core reopened on the same directory), and OS crashes (the spool
 * goes back to what the last writeback put on the disk, but for the files the forwarder forces: DiskImage;
 * a new boot id). Then every fault is healed, the spool is drained, and the invariants are checked:
 *
 * <ul>
 *   <li>every accepted record is in the topic or the dead-letter spool, or counted lost, and the counts of
 *       every incarnation add up: delivered + dead-lettered + lost + corrupt = appended + damaged;
 *   <li>nothing is in the topic that was not accepted; dead letters are exactly the poison records;
 *   <li>per key, the first appearances in the topic follow spool order;
 *   <li>duplicates are at most one per send that failed after the broker wrote it, plus the window at each
 *       crash (the README's stated bound);
 *   <li>a waiting publisher is told the truth: ACKNOWLEDGED only for a record in the topic, DEAD_LETTERED
 *       only for one in the dead-letter spool;
 *   <li>a (source_id, spool_index) pair never names two records, across every crash.
 * </ul>
 *
 * After an OS crash the records accepted since the last writeback may be anywhere or nowhere, and the exact
 * sums and the duplicate bound (both about process crashes) are not checked.
 *
 * A failure names its seed; {@code -Dsim.seed=N} replays exactly that run; {@code -Dsim.seeds=N} runs N
 * seeds (1,000 by default, in CI).
 */
class ForwarderSimulationTest {

    private static final int PARTITIONS = 3;
    private static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4", "k5", "k6"};

    @TempDir
    Path tmp;

    @Test
    void everyAcceptedRecordIsAccountedForUnderRandomFaults() throws Exception {
        SimulationHarness.runSeeds("simulation", tmp, 1000, (seed, dir) -> {
            try (Simulation sim = new Simulation(seed, dir)) {
                sim.run();
            }
        });
    }

    /** One seeded run. */
    private static final class Simulation implements AutoCloseable {
        final long seed;
        final Random rnd;
        final Path dir;
        final SimulationHarness.Clock clock = new SimulationHarness.Clock();
        final ForwarderConfig.Kafka kafka;
        final ForwarderConfig.OnFull onFull;
        final long maxBytes;
        final long block = 64 << 10;
        long usable = 1L << 40;

        // The simulated cluster.
        final List<Message> topic = new ArrayList<>();
        boolean brokerDown;
        boolean aclBroken;
        int producerBuildFailures;
        boolean producerStuck;
        SimProducer producer;
        long writtenButFailed;

        // The simulated process (thrown away at a crash).
        Spool spool;
        Spool second;
        Spool deadLetterSpool;
        Checkpoint checkpoint;
        SpaceGuard space;
        SpaceGuard secondSpace;
        SpaceGuard deadLetterSpace;
        ForwarderAgent agent;
        SyncWaiters waiters;
        final Map<Long, Long> watchIndex = new HashMap<>();
        final Map<Long, CompletableFuture<PublishResult.Status>> watched = new HashMap<>();
        final List<long[]> lateWatches = new ArrayList<>();

        // The books.
        final RecordLedger ledger = new RecordLedger();
        long damaged;
        long delivered;
        long deadLettered;
        long lost;
        long corrupt;
        long crashWindowSum;
        int crashes;
        int osCrashes;
        final DiskImage disk;
        /** The machine's boot id: a new one after each OS crash. */
        String bootId = "boot-0";

        final Map<Long, PublishResult.Status> toldFates = new HashMap<>();

        Simulation(long seed, Path dir) throws IOException {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.dir = dir;
            this.onFull = ForwarderConfig.OnFull.values()[rnd.nextInt(ForwarderConfig.OnFull.values().length)];
            this.maxBytes = block * (8 + rnd.nextInt(24));
            int batch = 1 + rnd.nextInt(4);
            this.kafka = ForwarderConfig.parse("gateway.observability.kafka { batch_size = " + batch
                            + ", spool { dir = \"" + dir + "\", on_full = "
                            + onFull.name().toLowerCase()
                            + (onFull == ForwarderConfig.OnFull.BLOCK ? ", block_timeout_ms = 10" : "")
                            + ", checkpoint_interval_ms = " + (100 + rnd.nextInt(1000)) + " }"
                            + SimulationHarness.smallBufferMemory(seed) + " }")
                    .kafka();
            disk = new DiskImage(dir);
            open();
            disk.writeback();
            ledger.writtenBack();
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

        /**
         * Opens the forwarding process's state. The second writer is another process: it lives on through the
         * forwarder's crashes. So does the dead-letter spool's queue object (its writes are as durable as the
         * spool's; reopening it each time would only cost time, Chronicle's per-queue thread-locals adding up).
         */
        void open() throws IOException {
            spool = new Spool(dir, spoolSettings());
            spool.prepareForAppends(true, bootId); // as OpenSpool does before the first append
            if (second == null) {
                second = new Spool(dir, spoolSettings());
                second.prepareForAppends(false, bootId);
                secondSpace = SpaceGuard.measuredByCaller(second, maxBytes, block, () -> usable);
            }
            if (deadLetterSpool == null) {
                deadLetterSpool =
                        new Spool(dir.resolve("dead-letter"), spoolSettings().rollBytes(0));
                deadLetterSpace = SpaceGuard.measuredByCaller(deadLetterSpool, maxBytes, block, () -> usable);
            }
            checkpoint = new Checkpoint(dir.resolve("checkpoint"));
            space = SpaceGuard.measuredByCaller(spool, maxBytes, block, () -> usable);
            waiters = new SyncWaiters(checkpoint::read);
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
                            Settlements.of(waiters::onCheckpoint, waiters::onFate, waiters::onLost),
                            DeliveryObserver.NONE,
                            this::now,
                            this::epochMillis));
            agent.onStart();
        }

        SimProducer newProducer() {
            if (producerBuildFailures > 0) {
                producerBuildFailures--;
                throw new ConfigException("No resolvable bootstrap urls given in" + " bootstrap.servers");
            }
            producer = new SimProducer();
            return producer;
        }

        void run() throws Exception {
            int steps = 150 + rnd.nextInt(250);
            for (int step = 0; step < steps; step++) {
                int action = rnd.nextInt(100);
                if (action < 30) {
                    publish(rnd.nextInt(4) + 1);
                } else if (action < 55) {
                    cycles(1 + rnd.nextInt(4));
                } else if (action < 75) {
                    broker(rnd.nextInt(12));
                } else if (action < 85) {
                    clock.advance(rnd.nextInt(300), TimeUnit.MILLISECONDS);
                    if (rnd.nextBoolean()) { // the pretoucher's round: the next roll file and cycle mark, ahead
                        (rnd.nextInt(4) == 0 ? second : spool)
                                .rollAhead(rnd.nextInt(8) == 0 ? rnd.nextInt(1 << 20) : space.roomToTouch());
                    }
                } else if (action < 87) {
                    brokerDown = !brokerDown;
                } else if (action < 88) {
                    aclBroken = !aclBroken;
                } else if (action < 89) {
                    producerBuildFailures = rnd.nextInt(3);
                    if (producer != null && rnd.nextBoolean()) {
                        producer.close(Duration.ZERO); // the next send throws: the producer is replaced
                    }
                } else if (action < 90) {
                    producerStuck = !producerStuck;
                } else if (action < 91) {
                    clock.advance(70, TimeUnit.SECONDS); // past the stall threshold
                } else if (action < 93) {
                    usable = usable > (1L << 30) ? 2 * block + rnd.nextInt((int) block) : 1L << 40;
                } else if (action < 94) {
                    damaged++;
                    SpoolDamage.appendGarbage(
                            spool, ("damage " + damaged + " of seed " + seed).getBytes(StandardCharsets.UTF_8));
                } else if (action < 96) {
                    checkLateWatches();
                } else if (action < 97 && rnd.nextInt(3) == 0) {
                    crash();
                } else if (action == 98) {
                    disk.writeback();
                    ledger.writtenBack();
                } else if (action == 99 && rnd.nextInt(4) == 0) {
                    osCrash();
                } else {
                    space.measure();
                    secondSpace.measure();
                }
            }
            heal();
            check();
        }

        void publish(int n) {
            for (int i = 0; i < n; i++) {
                long id = ledger.nextId();
                boolean isPoison = rnd.nextInt(40) == 0;
                String key = KEYS[rnd.nextInt(KEYS.length)];
                byte[] json = RecordLedger.recordJson(id, key, isPoison, rnd);
                boolean fromSecond = rnd.nextInt(4) == 0;
                Spool target = fromSecond ? second : spool;
                SpaceGuard guard = fromSecond ? secondSpace : space;
                byte[] keyBytes = MessageKeys.keyOf(json).getBytes(StandardCharsets.UTF_8);
                int size = SpoolRecord.encodedSize(keyBytes, json, null);
                if (!guard.admits(size) && !waitForRoom(guard, size, fromSecond)) {
                    continue; // dropped, counted by the caller as DROPPED_SPOOL_FULL; never appended
                }
                long index = target.append(DataType.CHAT_INFERENCE, epochMillis(), keyBytes, json, null);
                guard.appended(size);
                ledger.accepted(id, isPoison);
                int watch = rnd.nextInt(10);
                if (watch == 0) {
                    watched.put(id, waiters.watch(index));
                    watchIndex.put(id, index);
                } else if (watch == 1) {
                    lateWatches.add(new long[] {id, index}); // registers later: the record may be settled already
                }
            }
        }

        /** What Forwarder.waitForRoom does, with the agent's cycles in place of the waiting time. */
        boolean waitForRoom(SpaceGuard guard, int size, boolean appendOnly) {
            if (onFull == ForwarderConfig.OnFull.DROP_NEWEST) {
                return false;
            }
            if (onFull == ForwarderConfig.OnFull.DROP_OLDEST) {
                if (appendOnly || !agent.canDiscard()) {
                    return false;
                }
                agent.requestRoom(size);
            }
            cycles(2);
            guard.measure();
            return guard.admits(size);
        }

        void checkLateWatches() {
            for (long[] w : lateWatches) {
                watched.put(w[0], waiters.watch(w[1]));
                watchIndex.put(w[0], w[1]);
            }
            lateWatches.clear();
        }

        void cycles(int n) {
            for (int i = 0; i < n; i++) {
                agent.doWork(now());
                clock.advance(rnd.nextInt(2000), TimeUnit.MICROSECONDS);
            }
        }

        /** The broker answers up to {@code n} pending sends, each partition in its order. */
        void broker(int n) {
            if (producer == null || producerStuck) {
                return;
            }
            for (int i = 0; i < n && !producer.pending.isEmpty(); i++) {
                int p = producer.pending.get(rnd.nextInt(producer.pending.size())).partition;
                Send s = producer.firstOf(p);
                producer.pending.remove(s);
                if (s.poison) {
                    s.callback.onCompletion(null, new RecordTooLargeException("the record is too large"));
                } else if (aclBroken) {
                    // Refused alone: what is behind it in the partition may find the ACL fixed and be written
                    // first. Per-key order must hold anyway (the forwarder holds a key's later records).
                    s.callback.onCompletion(null, new TopicAuthorizationException("Not authorized to access topics"));
                } else if (brokerDown) {
                    if (rnd.nextInt(5) == 0 && write(s)) { // the write happened, the answer was lost
                        writtenButFailed++;
                    }
                    s.callback.onCompletion(null, new TimeoutException("Expiring record: broker down"));
                    // An idempotent producer keeps a partition's order: what was behind the failure fails too.
                    for (Send behind : producer.drainPartition(p)) {
                        behind.callback.onCompletion(null, new TimeoutException("Expiring record: broker down"));
                    }
                } else {
                    write(s);
                    s.callback.onCompletion(new RecordMetadata(new TopicPartition(s.topic, p), 0, 0, 0, 0, 0), null);
                }
            }
        }

        /** The broker writes a send; it never writes a poison record (it is too large for it). */
        boolean write(Send s) {
            if (s.poison) {
                return false;
            }
            topic.add(new Message(s.id, s.partition, s.key));
            ledger.identified(s.identity, s.id);
            return true;
        }

        /** Everything in flight either reached the broker (a prefix of each partition) or did not; then the process is gone. */
        void crash() throws IOException {
            crashes++;
            crashWindowSum += agent.inFlight() + countPending();
            if (producer != null) {
                for (int p = 0; p < PARTITIONS; p++) {
                    List<Send> sends = producer.drainPartition(p);
                    int written = sends.isEmpty() ? 0 : rnd.nextInt(sends.size() + 1);
                    for (int i = 0; i < written; i++) {
                        write(sends.get(i));
                    }
                }
                producer.dead = true;
            }
            producer = null;
            addCounts();
            // Waiters of the dead process were answered TIMED_OUT (or nothing): they prove nothing now.
            watched.clear();
            watchIndex.clear();
            lateWatches.clear();
            space.close();
            checkpoint.close();
            spool.close();
            open();
        }

        /**
         * A power loss: the forwarding process and the second writer are gone (what was in flight reached the
         * broker or not, as in a crash), and the spool is what the disk held (DiskImage); the machine boots with
         * a new boot id. Records accepted since the last writeback vanished from the spool, those in Kafka
         * included: the records appended next must not take their (source_id, spool_index).
         */
        void osCrash() throws IOException {
            osCrashes++;
            crash(); // the forwarding process's death, then its reopening: closed again at once below
            space.close();
            secondSpace.close();
            checkpoint.close();
            spool.close();
            second.close();
            second = null;
            disk.crash(rnd.nextBoolean());
            ledger.lostWithThePageCache();
            bootId = "boot-" + osCrashes;
            open();
        }

        int countPending() {
            return producer == null ? 0 : producer.pending.size();
        }

        void addCounts() {
            delivered += agent.delivered();
            deadLettered += agent.deadLettered();
            lost += agent.lost();
            corrupt += agent.corrupt();
        }

        void heal() {
            checkLateWatches();
            brokerDown = false;
            aclBroken = false;
            producerBuildFailures = 0;
            producerStuck = false;
            usable = 1L << 40;
            for (int i = 0; i < 200_000; i++) {
                broker(50);
                agent.doWork(now());
                clock.advance(5, TimeUnit.MILLISECONDS);
                if (drained()) {
                    addCounts();
                    return;
                }
            }
            fail("the spool did not drain after the faults were healed: state " + agent.state() + ", in flight "
                    + agent.inFlight() + ", checkpoint " + checkpoint.read() + ", last index " + spool.lastIndex()
                    + ", last error " + agent.lastError() + ", " + agent);
        }

        boolean drained() {
            return agent.inFlight() == 0
                    && countPending() == 0
                    && spool.query().countAfter(checkpoint.read()) == 0
                    // Ahead only after an OS crash took records the checkpoint had passed (appends moved on).
                    && (checkpoint.read() == spool.lastIndex()
                            || osCrashes > 0 && checkpoint.read() > spool.lastIndex());
        }

        void check() {
            Set<Long> inTopic = new HashSet<>();
            for (Message m : topic) {
                inTopic.add(m.id);
            }
            Set<Long> inDeadLetters = RecordLedger.readDeadLetters(deadLetterSpool, now());
            ledger.checkWhereRecordsWent(inTopic, inDeadLetters, lost, onFull);
            // After an OS crash the counts of the incarnations before it include records the crash took, and the
            // records after the checkpoint the disk held were sent again: no exact sums, no duplicate bound.
            if (osCrashes == 0 && delivered + deadLettered + lost + corrupt != ledger.accepted.size() + damaged) {
                fail("the counts do not add up: delivered " + delivered + " + dead-lettered " + deadLettered
                        + " + lost " + lost + " + corrupt " + corrupt + " != accepted " + ledger.accepted.size()
                        + " + damaged " + damaged);
            }
            checkOrder();
            long duplicates = topic.size() - inTopic.size();
            long bound = writtenButFailed + crashWindowSum;
            if (osCrashes == 0 && duplicates > bound) {
                fail(duplicates + " duplicates, more than the bound " + bound + " (" + writtenButFailed
                        + " writes whose answer was lost, " + crashes + " crashes with " + crashWindowSum
                        + " records in flight)");
            }
            for (Map.Entry<Long, CompletableFuture<PublishResult.Status>> w : watched.entrySet()) {
                long id = w.getKey();
                PublishResult.Status told = w.getValue().getNow(null);
                if (told == null) {
                    fail("a waiting publisher of record " + id + " (index " + watchIndex.get(id) + ") was never"
                            + " answered although the spool drained");
                }
                boolean ok = switch (told) {
                    case ACKNOWLEDGED -> inTopic.contains(id);
                    case DEAD_LETTERED -> inDeadLetters.contains(id);
                    case LOST -> !inDeadLetters.contains(id);
                    default -> false;
                };
                if (!ok) {
                    fail("a waiting publisher of record " + id + " was told " + told + ", but it is "
                            + (inTopic.contains(id)
                                    ? "in the topic"
                                    : inDeadLetters.contains(id) ? "dead-lettered" : "nowhere"));
                }
            }
        }

        /** Per key, the first appearances in the topic follow spool order (the order of the ids here). */
        void checkOrder() {
            Map<String, Long> lastFirst = new HashMap<>();
            Set<Long> seen = new HashSet<>();
            for (Message m : topic) {
                if (!seen.add(m.id)) {
                    continue;
                }
                Long before = lastFirst.put(m.key, m.id);
                if (before != null && before > m.id) {
                    fail("key " + m.key + ": record " + m.id + " first appeared after record " + before);
                }
            }
        }

        void closeFiles() throws IOException {
            space.close();
            secondSpace.close();
            deadLetterSpace.close();
            checkpoint.close();
            deadLetterSpool.close();
            second.close();
            spool.close();
        }

        @Override
        public void close() throws IOException {
            closeFiles();
            disk.delete();
        }

        /** The simulated producer: sends wait in {@link #pending} until the broker answers them. */
        final class SimProducer extends MockProducer<byte[], byte[]> {
            final List<Send> pending = new ArrayList<>();
            boolean dead;
            private boolean closedHere;

            SimProducer() {
                super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
            }

            @Override
            public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
                if (closedHere) {
                    throw new IllegalStateException("Cannot perform operation after producer has been closed");
                }
                String key = new String(record.key(), StandardCharsets.UTF_8);
                long id = RecordLedger.idOf(record.value());
                if (brokerDown && rnd.nextInt(3) == 0) {
                    // As KafkaProducer.send when metadata does not come within max.block.ms: the callback, before
                    // send returns.
                    callback.onCompletion(null, new TimeoutException("Topic not present in metadata after 5000 ms."));
                    return new CompletableFuture<>();
                }
                pending.add(new Send(
                        id,
                        record.topic(),
                        key,
                        Math.floorMod(key.hashCode(), PARTITIONS),
                        RecordLedger.isPoison(record.value()),
                        callback,
                        RecordLedger.identity(record)));
                return new CompletableFuture<>();
            }

            Send firstOf(int partition) {
                for (Send s : pending) {
                    if (s.partition == partition) {
                        return s;
                    }
                }
                return null;
            }

            List<Send> drainPartition(int partition) {
                List<Send> out = new ArrayList<>();
                pending.removeIf(s -> {
                    if (s.partition == partition) {
                        out.add(s);
                        return true;
                    }
                    return false;
                });
                return out;
            }

            /** As KafkaProducer.close(0): every incomplete send fails; some had reached the broker. */
            @Override
            public synchronized void close(Duration timeout) {
                if (closedHere) {
                    return;
                }
                closedHere = true;
                if (dead) {
                    return;
                }
                for (int p = 0; p < PARTITIONS; p++) {
                    List<Send> sends = drainPartition(p);
                    int written = sends.isEmpty() ? 0 : rnd.nextInt(sends.size() + 1);
                    for (int i = 0; i < sends.size(); i++) {
                        if (i < written && write(sends.get(i))) {
                            writtenButFailed++;
                        }
                        sends.get(i).callback.onCompletion(null, new KafkaException("Producer is closed forcefully."));
                    }
                }
            }
        }
    }

    record Send(long id, String topic, String key, int partition, boolean poison, Callback callback, String identity) {}

    record Message(long id, int partition, String key) {}
}
