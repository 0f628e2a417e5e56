package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.kafka.Positions;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delivery = exactly_once}, each behaviour on its own: Kafka's MockProducer with its transactions (a
 * record is in {@code history()} only once its transaction committed), a committed-positions reader the test
 * answers, and an injected clock. The seeded simulation and the real-broker tests do the rest.
 */
class ExactlyOnceDeliveryTest {

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<TransactionalProducer> producers = new ArrayList<>();
    /** Producers the factory hands out first, set up by a test. */
    private final ArrayDeque<TransactionalProducer> prepared = new ArrayDeque<>();

    private final Map<Long, PublishResult.Status> fates = new HashMap<>();
    private final Map<DataType, Integer> topicRefusals = new HashMap<>();
    private final List<Long> indexes = new ArrayList<>();
    /** What Kafka says each source id committed (the positions topic, read_committed). */
    private Function<UUID, Long> positions = source -> Positions.NONE;

    private Spool spool;
    private Spool deadLetters;
    private Checkpoint checkpoint;

    /** A transactional MockProducer that refuses, for good, any record whose JSON says "poison". */
    static final class TransactionalProducer extends MockProducer<byte[], byte[]> {
        TransactionalProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            if (new String(record.value(), StandardCharsets.UTF_8).contains("forbidden") && refuseTopic) {
                TopicAuthorizationException refused =
                        new TopicAuthorizationException("Not authorized to access topics: [" + record.topic() + "]");
                callback.onCompletion(null, refused);
                return CompletableFuture.failedFuture(refused);
            }
            if (new String(record.value(), StandardCharsets.UTF_8).contains("poison")) {
                RecordTooLargeException refused = new RecordTooLargeException("the record is too large");
                callback.onCompletion(null, refused);
                return CompletableFuture.failedFuture(refused);
            }
            return super.send(record, callback);
        }

        int aborts;
        /** Refuses records whose JSON says "forbidden" as an ACL would refuse their topic. */
        boolean refuseTopic;
        /** Runs when commitTransaction is called, before it answers (a stall, say). */
        Runnable onCommit = () -> {};

        @Override
        public void commitTransaction() {
            onCommit.run();
            super.commitTransaction();
        }

        @Override
        public void abortTransaction() {
            super.abortTransaction();
            aborts++;
        }

        /** The data records committed (not the position records). */
        List<ProducerRecord<byte[], byte[]>> committedRecords() {
            return history().stream()
                    .filter(r -> !r.topic().endsWith("_forwarder_positions"))
                    .toList();
        }

        /** The spool index of each position record committed. */
        List<Long> committedPositions() {
            List<Long> out = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : history()) {
                if (r.topic().endsWith("_forwarder_positions")) {
                    String value = new String(r.value(), StandardCharsets.UTF_8);
                    int at = value.indexOf("\"spool_index\":") + 14;
                    out.add(Long.parseLong(value.substring(at, value.indexOf(',', at))));
                }
            }
            return out;
        }
    }

    @BeforeEach
    void open() throws Exception {
        spool = new Spool(dir.resolve("spool"));
        deadLetters = new Spool(dir.resolve("spool/dead-letter"));
        checkpoint = new Checkpoint(dir.resolve("spool/checkpoint"));
    }

    @AfterEach
    void close() throws Exception {
        checkpoint.close();
        deadLetters.close();
        spool.close();
    }

    private ForwarderAgent agent() {
        return agent("batch_size = 4");
    }

    private ForwarderAgent agent(String settings) {
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { delivery = exactly_once,"
                        + " linger_ms = 100, spool.dir = \"" + dir.resolve("spool") + "\", " + settings + " }")
                .kafka();
        ForwarderAgent agent = new ForwarderAgent(
                spool,
                deadLetters,
                SpaceGuard.measuredByCaller(deadLetters, 1L << 30, 1 << 20, () -> 1L << 40),
                checkpoint,
                SpaceGuard.measuredByCaller(spool, 1L << 30, 1 << 20, () -> 1L << 40),
                kafka,
                new ForwarderWiring(
                        () -> {
                            TransactionalProducer p =
                                    prepared.isEmpty() ? new TransactionalProducer() : prepared.poll();
                            producers.add(p);
                            return p;
                        },
                        null,
                        Settlements.of(cp -> {}, fates::put, (from, to) -> {}),
                        new DeliveryObserver() {
                            @Override
                            public void topicRefused(DataType type) {
                                topicRefusals.merge(type, 1, Integer::sum);
                            }
                        },
                        clock::get,
                        () -> 0L,
                        source -> positions.apply(source)));
        agent.onStart();
        return agent;
    }

    private void append(String... bodies) {
        for (String body : bodies) {
            String id = "r" + indexes.size();
            byte[] json = ("{\"id\":\"" + id + "\"" + body + "}").getBytes(StandardCharsets.UTF_8);
            indexes.add(spool.append(DataType.CHAT_INFERENCE, 0, id.getBytes(StandardCharsets.UTF_8), json, null));
        }
    }

    private void cycles(ForwarderAgent agent, int n) {
        for (int i = 0; i < n; i++) {
            agent.doWork(clock.get());
        }
    }

    private static List<String> ids(List<ProducerRecord<byte[], byte[]>> records) {
        return records.stream()
                .map(r -> new String(r.key(), StandardCharsets.UTF_8))
                .toList();
    }

    @Test
    void recordsCommitInATransactionWithTheSpoolPositionAndSettleAtTheCommit() {
        append("", "", "");
        ForwarderAgent agent = agent();
        cycles(agent, 3);
        TransactionalProducer p = producers.get(0);
        assertTrue(p.transactionInFlight(), "three records of batch_size 4: the transaction stays open");
        assertEquals(Checkpoint.NONE, checkpoint.read(), "nothing settles before the commit");
        assertEquals(List.of(), p.committedRecords());

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // linger_ms since its first record
        cycles(agent, 1);
        assertEquals(List.of("r0", "r1", "r2"), ids(p.committedRecords()));
        assertEquals(List.of(indexes.get(2)), p.committedPositions(), "the position of its last record");
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(3, agent.delivered());
        assertEquals(1, p.commitCount());
    }

    /**
     * A transaction holds its records until the commit, for a resend: bounded in bytes too (half the
     * producer's buffer.memory), not only by batch_size. Before, 12 records of about 400 bytes went into
     * one transaction of 5 KB under a bound of 1,000 bytes.
     */
    @Test
    void aTransactionCommitsOnceItsRecordsTakeHalfTheProducersBufferMemory() {
        String big = ",\"input\":\"" + "x".repeat(400) + "\"";
        append(big, big, big, big, big, big, big, big, big, big, big, big);
        ForwarderAgent agent = agent("batch_size = 100, producer { \"buffer.memory\" = \"2000\" }");
        cycles(agent, 8);
        TransactionalProducer p = producers.get(0);
        assertEquals(
                List.of(indexes.get(2), indexes.get(5), indexes.get(8), indexes.get(11)),
                p.committedPositions(),
                "four transactions of three records (1,200 bytes each, over 1,000), none waiting for linger_ms");
        assertEquals(12, p.committedRecords().size());
        assertEquals(12, agent.delivered());
    }

    @Test
    void aRecordKafkaRefusesIsDeadLetteredAndTheTransactionSentAgainWithoutIt() {
        append("", ",\"poison\":1", "", "");
        ForwarderAgent agent = agent();
        cycles(agent, 4);
        TransactionalProducer p = producers.get(0);
        assertEquals(1, p.aborts, "the transaction with the refused record was aborted");
        assertEquals(List.of("r0", "r2", "r3"), ids(p.committedRecords()), "the others, sent again, once");
        assertEquals(PublishResult.Status.DEAD_LETTERED, fates.get(indexes.get(1)));
        assertEquals(1, agent.deadLettered());
        assertEquals(3, agent.delivered());
        assertEquals(indexes.get(3), checkpoint.read(), "the checkpoint passes the dead letter too");
        assertEquals(1, producers.size(), "a record's own fault does not replace the producer");
    }

    /** A topic the ACL refuses is waited out, as with at_least_once, and counted (forwarder_kafka_topic_refusals). */
    @Test
    void aTopicRefusalIsCountedAndWaitedOut() {
        append("", ",\"forbidden\":1", "");
        TransactionalProducer first = new TransactionalProducer();
        first.refuseTopic = true;
        prepared.add(first);
        ForwarderAgent agent = agent();
        cycles(agent, 4);
        assertEquals(1, topicRefusals.getOrDefault(DataType.CHAT_INFERENCE, 0), "counted: " + agent.lastError());
        assertEquals(0, agent.deadLettered(), "not the record's fault");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1)); // the ACL is fixed: the next producer is not refused
        cycles(agent, 4);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        cycles(agent, 2);
        assertEquals(
                List.of("r0", "r1", "r2"),
                ids(producers.get(producers.size() - 1).committedRecords()));
    }

    @Test
    void fencingStopsForwardingForGood() {
        append("", "", "", "");
        ForwarderAgent agent = agent();
        cycles(agent, 2);
        TransactionalProducer p = producers.get(0);
        assertEquals(4, p.committedRecords().size());
        p.fenceProducer(); // another producer took the transactional id
        append("", "");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(agent, 5);
        assertEquals(State.FENCED, agent.state());
        assertTrue(agent.lastError().contains("fenced by Kafka"), agent.lastError());
        assertEquals(indexes.get(3), checkpoint.read(), "nothing more settles");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(60));
        cycles(agent, 5);
        assertEquals(1, producers.size(), "no new producer is made to fight the other one");
    }

    /** A transaction the coordinator aborted for its time-out is not fencing: its records go again, once. */
    @Test
    void aTransactionTheCoordinatorTimedOutIsSentAgainNotTakenForFencing() {
        append("", "", "", "");
        TransactionalProducer first = new TransactionalProducer();
        first.commitTransactionException = new org.apache.kafka.common.errors.InvalidProducerEpochException(
                "Producer with transactionalId 'forwarder-x' and ProducerIdAndEpoch(producerId=1, epoch=0) attempted"
                        + " to produce with an old epoch");
        // The commit stalled past transaction.timeout.ms (60 s by default): the coordinator aborted it.
        first.onCommit = () -> clock.addAndGet(TimeUnit.SECONDS.toNanos(61));
        prepared.add(first);
        ForwarderAgent agent = agent();
        cycles(agent, 2);
        assertEquals(State.BACKING_OFF, agent.state(), "backing off, not fenced: " + agent.lastError());
        assertTrue(agent.lastError().contains("transaction.timeout.ms"), agent.lastError());
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(agent, 4);
        assertEquals(State.FORWARDING, agent.state());
        assertEquals(List.of("r0", "r1", "r2", "r3"), ids(producers.get(1).committedRecords()));
        assertEquals(4, agent.delivered());
    }

    /**
     * A send learns of another producer with its transactional id as InvalidProducerEpochException, as of a
     * time-out; a transaction younger than transaction.timeout.ms was not timed out: fencing, for good.
     */
    @Test
    void anEpochBumpedUnderAYoungTransactionIsFencingNotATimeOut() {
        append("", "", "", "");
        TransactionalProducer first = new TransactionalProducer();
        first.commitTransactionException = new org.apache.kafka.common.errors.InvalidProducerEpochException(
                "Producer attempted to produce with an old epoch.");
        prepared.add(first);
        ForwarderAgent agent = agent();
        cycles(agent, 2);
        assertEquals(State.FENCED, agent.state(), agent.lastError());
        assertTrue(agent.lastError().contains("not a time-out"), agent.lastError());
        clock.addAndGet(TimeUnit.SECONDS.toNanos(60));
        cycles(agent, 5);
        assertEquals(1, producers.size(), "no new producer is made to fight the other one");
    }

    @Test
    void aStartResumesAfterThePositionKafkaCommittedAndTheCheckpointFollowsIt() {
        append("", "", "", "", "", "");
        positions = source -> indexes.get(2); // a previous run committed r0..r2; its checkpoint was not forced
        ForwarderAgent agent = agent();
        cycles(agent, 3);
        assertEquals(indexes.get(2), checkpoint.read(), "the local checkpoint follows Kafka's position");
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        cycles(agent, 1);
        assertEquals(List.of("r3", "r4", "r5"), ids(producers.get(0).committedRecords()), "none sent twice");
        assertEquals(indexes.get(5), checkpoint.read());
    }

    @Test
    void aPositionAheadOfTheSpoolGivesTheSpoolANewSourceIdBeforeAnythingIsSent() {
        append("", "");
        UUID before = spool.sourceId();
        positions = source -> source.equals(before) ? indexes.get(1) + 10 : Positions.NONE;
        ForwarderAgent agent = agent();
        cycles(agent, 4);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        cycles(agent, 2);
        assertNotEquals(before, spool.sourceId(), "a new source id: the old one's indexes are Kafka's already");
        TransactionalProducer last = producers.get(producers.size() - 1);
        assertEquals(List.of("r0", "r1"), ids(last.committedRecords()), "the records go, under the new id");
        assertEquals(
                spool.sourceId().toString(),
                new String(
                        last.committedRecords()
                                .get(0)
                                .headers()
                                .lastHeader(KafkaMessages.HEADER_SOURCE_ID)
                                .value(),
                        StandardCharsets.UTF_8));
    }

    @Test
    void aCommitInDoubtThatTookEffectIsSettledNotSentAgain() {
        append("", "", "", "");
        TransactionalProducer first = new TransactionalProducer();
        first.commitTransactionException = new TimeoutException("Timeout expired after 5000ms while awaiting EndTxn");
        prepared.add(first);
        ForwarderAgent agent = agent();
        cycles(agent, 2);
        assertEquals(State.BACKING_OFF, agent.state(), "the commit timed out: in doubt");
        assertEquals(Checkpoint.NONE, checkpoint.read());
        positions = source -> indexes.get(3); // ...but it took effect: Kafka committed the position
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(agent, 3);
        assertEquals(State.FORWARDING, agent.state());
        assertEquals(indexes.get(3), checkpoint.read());
        assertEquals(4, agent.delivered(), "each counted once");
        assertEquals(2, producers.size(), "a new producer asked Kafka where it stood");
        assertEquals(List.of(), producers.get(1).committedRecords(), "and sent none of them again");
    }

    @Test
    void aCommitInDoubtThatDidNotTakeEffectIsSentAgainOnce() {
        append("", "", "", "");
        TransactionalProducer first = new TransactionalProducer();
        first.commitTransactionException = new TimeoutException("Timeout expired after 5000ms while awaiting EndTxn");
        prepared.add(first);
        ForwarderAgent agent = agent();
        cycles(agent, 2);
        assertEquals(State.BACKING_OFF, agent.state());
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1)); // Kafka still has no position: the commit was lost
        cycles(agent, 4);
        assertEquals(List.of("r0", "r1", "r2", "r3"), ids(producers.get(1).committedRecords()));
        assertEquals(indexes.get(3), checkpoint.read());
        assertEquals(4, agent.delivered());
    }

    /**
     * drop_oldest while a transaction is open (its sends waiting for a broker that is away): the transaction
     * is abandoned so that the oldest roll file can go at once, instead of every publisher waiting 100 ms
     * and dropping its record; what is left of the transaction is sent again in a new one.
     */
    @Test
    void dropOldestMakesRoomAtOnceEvenWhileATransactionIsOpen() throws Exception {
        long[] nowMs = {1_800_000_000_000L};
        long[] usable = {1L << 40};
        Path rollingDir = dir.resolve("rolling");
        try (Spool rolling = new Spool(
                        rollingDir,
                        Spool.Settings.defaults()
                                .rollPeriod(RollPeriod.SECONDLY)
                                .wallClock(() -> nowMs[0]));
                Spool dead = new Spool(rollingDir.resolve("dead-letter"));
                Checkpoint cp = new Checkpoint(rollingDir.resolve("checkpoint"));
                SpaceGuard space = SpaceGuard.measuredByCaller(rolling, 1L << 40, 1 << 20, () -> usable[0]);
                SpaceGuard deadSpace = SpaceGuard.measuredByCaller(dead, 1L << 40, 1 << 20, () -> 1L << 40)) {
            for (int second = 0; second < 3; second++) {
                for (int i = 0; i < 2; i++) {
                    String id = "k" + second + i;
                    rolling.append(
                            DataType.CHAT_INFERENCE,
                            nowMs[0],
                            id.getBytes(StandardCharsets.UTF_8),
                            ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8),
                            null);
                }
                nowMs[0] += 1000; // the next roll file
            }
            ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { delivery = exactly_once,"
                            + " batch_size = 100, linger_ms = 30000, spool { dir = \"" + rollingDir
                            + "\", on_full = drop_oldest } }")
                    .kafka();
            ForwarderAgent agent = new ForwarderAgent(
                    rolling,
                    dead,
                    deadSpace,
                    cp,
                    space,
                    kafka,
                    new ForwarderWiring(
                            () -> {
                                TransactionalProducer p = new TransactionalProducer();
                                producers.add(p);
                                return p;
                            },
                            null,
                            Settlements.NONE,
                            DeliveryObserver.NONE,
                            clock::get,
                            () -> nowMs[0],
                            source -> Positions.NONE));
            agent.onStart();
            cycles(agent, 3);
            assertTrue(producers.get(0).transactionInFlight(), "six records in an open transaction (linger 30 s)");

            usable[0] = 1 << 20; // the disk is full: a publisher asks for room
            agent.requestRoom(1000);
            cycles(agent, 2);
            assertEquals(2, agent.lost(), "the oldest roll file (2 records) went at once");
            assertEquals(State.BACKING_OFF, agent.state(), "the transaction was abandoned");

            usable[0] = 1L << 40;
            clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
            cycles(agent, 3);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(31)); // linger_ms: the new transaction commits
            cycles(agent, 2);
            TransactionalProducer second = producers.get(producers.size() - 1);
            assertEquals(List.of("k10", "k11", "k20", "k21"), ids(second.committedRecords()), "the rest, once");
            assertEquals(4, agent.delivered());
        }
    }
}
