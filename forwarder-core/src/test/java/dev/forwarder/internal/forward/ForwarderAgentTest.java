package dev.forwarder.internal.forward;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolDamage;
import dev.forwarder.internal.spool.SpoolRecord;
import dev.forwarder.testkit.SpoolContents;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarding logic without a broker: Kafka's MockProducer with acknowledgements completed by the test,
 * in any order, and an injected clock. The real-broker behaviour is in the *IT tests.
 */
class ForwarderAgentTest {

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Long> checkpoints = new ArrayList<>();
    private final List<Long> deadLettered = new ArrayList<>();
    private final Map<Long, PublishResult.Status> fates = new HashMap<>();
    private int producerFailuresLeft;
    private final List<CapturingProducer> producers = new ArrayList<>();
    private Spool spool;
    private Spool deadLetters;
    private Checkpoint checkpoint;
    private List<Long> indexes;

    /** A MockProducer whose callbacks the test completes, one by one and out of order. */
    static final class CapturingProducer extends MockProducer<byte[], byte[]> {
        final List<Callback> callbacks = new ArrayList<>();
        final List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>();

        CapturingProducer() {
            super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            callbacks.add(callback);
            sent.add(record);
            return super.send(record, null);
        }

        void ack(int i) {
            callbacks.get(i).onCompletion(new RecordMetadata(new TopicPartition("t", 0), i, 0, 0, 0, 0), null);
        }

        void fail(int i, Exception e) {
            callbacks.get(i).onCompletion(null, e);
        }

        String spoolIndexOf(int i) {
            return new String(
                    sent.get(i)
                            .headers()
                            .lastHeader(KafkaMessages.HEADER_SPOOL_INDEX)
                            .value(),
                    StandardCharsets.UTF_8);
        }
    }

    @BeforeEach
    void open() throws Exception {
        spool = new Spool(dir.resolve("spool"));
        deadLetters = new Spool(dir.resolve("spool/dead-letter"));
        checkpoint = new Checkpoint(dir.resolve("spool/checkpoint"));
        indexes = new ArrayList<>();
    }

    @AfterEach
    void close() throws Exception {
        checkpoint.close();
        deadLetters.close();
        spool.close();
    }

    private ForwarderAgent loop() {
        return loop("batch_size = 4");
    }

    private ForwarderAgent loop(String settings) {
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { spool.dir = \""
                        + dir.resolve("spool") + "\", " + settings + " }")
                .kafka();
        SpaceGuard room = SpaceGuard.measuredByCaller(spool, 1L << 30, 1 << 20, () -> 1L << 40);
        SpaceGuard deadLetterRoom = SpaceGuard.measuredByCaller(deadLetters, 1L << 30, 1 << 20, () -> 1L << 40);
        ForwarderAgent loop = new ForwarderAgent(
                spool,
                deadLetters,
                deadLetterRoom,
                checkpoint,
                room,
                kafka,
                new ForwarderWiring(
                        () -> {
                            if (producerFailuresLeft > 0) {
                                producerFailuresLeft--;
                                throw new ConfigException("No resolvable bootstrap urls given in bootstrap.servers");
                            }
                            CapturingProducer p = new CapturingProducer();
                            producers.add(p);
                            return p;
                        },
                        null,
                        new Settlements() {
                            @Override
                            public void onCheckpoint(long cp) {
                                checkpoints.add(cp);
                            }

                            @Override
                            public void onFate(long index, PublishResult.Status fate) {
                                fates.put(index, fate);
                                if (fate == PublishResult.Status.DEAD_LETTERED) {
                                    deadLettered.add(index);
                                }
                            }

                            @Override
                            public void onLost(long from, long to) {}
                        },
                        DeliveryObserver.NONE,
                        clock::get,
                        () -> 0L));
        loop.onStart();
        loop.doWork(clock.get()); // CONNECTING: builds the producer
        return loop;
    }

    private void append(int n) {
        for (int i = 0; i < n; i++) {
            byte[] json = ("{\"id\":\"r" + indexes.size() + "\"}").getBytes(StandardCharsets.UTF_8);
            indexes.add(spool.append(
                    DataType.CHAT_INFERENCE, 0, ("r" + indexes.size()).getBytes(StandardCharsets.UTF_8), json, null));
        }
    }

    private void cycles(ForwarderAgent loop, int n) {
        for (int i = 0; i < n; i++) {
            loop.doWork(clock.get());
        }
    }

    @Test
    void checkpointAdvancesOnlyOverAContiguousRunOfAcknowledgements() {
        append(10);
        ForwarderAgent loop = loop();
        cycles(loop, 5);
        CapturingProducer p = producers.get(0);
        assertEquals(10, p.sent.size(), "all ten sent (window is 4 x 5 = 20)");

        p.ack(2);
        p.ack(3);
        p.ack(4);
        cycles(loop, 1);
        assertEquals(Checkpoint.NONE, checkpoint.read(), "0 and 1 not acknowledged: no advance");

        p.ack(0);
        cycles(loop, 1);
        assertEquals(indexes.get(0), checkpoint.read());

        p.ack(1);
        cycles(loop, 1);
        assertEquals(indexes.get(4), checkpoint.read(), "1 closes the gap up to 4");

        for (int i = 9; i >= 5; i--) {
            p.ack(i);
        }
        cycles(loop, 1);
        assertEquals(indexes.get(9), checkpoint.read());
        assertEquals(10, loop.delivered());
        assertEquals(List.of(indexes.get(0), indexes.get(4), indexes.get(9)), checkpoints);
    }

    @Test
    void aRetriableFailureResendsFromTheFirstUnacknowledgedRecordSkippingAcknowledgedOnes() {
        append(6);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        assertEquals(6, p.sent.size());
        p.ack(0);
        p.ack(1);
        p.fail(2, new TimeoutException("broker down"));
        p.ack(3);
        p.ack(5);
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertEquals(indexes.get(1), checkpoint.read());

        cycles(loop, 3);
        assertEquals(6, p.sent.size(), "nothing resent while record 4 is still in flight");
        p.ack(4);
        cycles(loop, 3);
        assertEquals(6, p.sent.size(), "nothing resent before the back-off has passed");

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 3);
        assertEquals(State.FORWARDING, loop.state());
        assertEquals(7, p.sent.size(), "only record 2 is sent again: 3, 4 and 5 were acknowledged");
        assertEquals(String.valueOf(indexes.get(2)), p.spoolIndexOf(6));

        p.ack(6);
        cycles(loop, 2);
        assertEquals(indexes.get(5), checkpoint.read());
        assertEquals(6, loop.delivered());
        assertEquals(1, producers.size(), "a timeout does not replace the producer");
    }

    @Test
    void aDrainDoesNotEndWhileARewoundRecordIsUnacknowledged() {
        append(3);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        loop.drain(clock.get() + TimeUnit.SECONDS.toNanos(60));
        CapturingProducer p = producers.get(0);
        p.ack(0);
        p.fail(1, new TimeoutException("broker down"));
        p.ack(2);
        cycles(loop, 2);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 3);
        assertEquals(4, p.sent.size(), "record 1 sent again");
        assertTrue(!loop.finished(), "the drain waits for the resent record");
        p.ack(3);
        cycles(loop, 2);
        assertTrue(loop.finished());
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(3, loop.delivered(), "each record counted once, the one acknowledged before the rewind too");
    }

    @Test
    void aRecordKafkaRejectsForGoodIsDeadLetteredAndForwardingGoesOn() throws Exception {
        append(4);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        p.ack(0);
        p.fail(1, new RecordTooLargeException("the message is 2000000 bytes"));
        p.ack(2);
        p.ack(3);
        cycles(loop, 2);
        assertEquals(indexes.get(3), checkpoint.read());
        assertEquals(3, loop.delivered());
        assertEquals(1, loop.deadLettered());
        assertEquals(State.FORWARDING, loop.state());
        assertEquals(List.of(indexes.get(1)), deadLettered);

        List<SpoolRecord.Entry> dead = SpoolContents.of(deadLetters);
        assertEquals(1, dead.size());
        assertEquals("r1", dead.get(0).key());
        assertEquals("{\"id\":\"r1\"}", new String(dead.get(0).payload(), StandardCharsets.UTF_8));
        DeadLetters.Origin origin = DeadLetters.origin(dead.get(0).note());
        assertTrue(origin.reason().contains("2000000 bytes"), dead.get(0).note());
        assertEquals(indexes.get(1), origin.spoolIndex(), "the dead letter says where it came from");
        assertEquals(spool.sourceId(), origin.sourceId());
    }

    @Test
    void aCorruptRecordIsCountedAndSkipped() {
        append(2);
        indexes.add(SpoolDamage.appendGarbage(
                spool, "not a spool record at all, 40 bytes long".getBytes(StandardCharsets.UTF_8)));
        append(1);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        assertEquals(3, p.sent.size(), "the corrupt record is not sent");
        p.ack(0);
        p.ack(1);
        p.ack(2);
        cycles(loop, 2);
        assertEquals(indexes.get(3), checkpoint.read(), "the checkpoint passes the corrupt record");
        assertEquals(1, loop.corrupt());
        assertEquals(3, loop.delivered());
    }

    @Test
    void aProducerThatStopsAcknowledgingIsReplacedAndTheRecordsResent() {
        append(3);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer stuck = producers.get(0);
        stuck.ack(0);
        cycles(loop, 1);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(40));
        cycles(loop, 2);
        assertEquals(
                State.FORWARDING,
                loop.state(),
                "40 s without an acknowledgement is still patience: an ISR shrink can take 30 s");
        assertEquals(1, producers.size());

        clock.addAndGet(TimeUnit.SECONDS.toNanos(26)); // past delivery.timeout.ms (60 s) + request_timeout_ms
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertTrue(stuck.closed(), "the stuck producer was closed");
        // As KafkaProducer.close(0) does: every incomplete send fails.
        stuck.fail(1, new KafkaException("Producer is closed forcefully."));
        stuck.fail(2, new KafkaException("Producer is closed forcefully."));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(loop, 3);
        assertEquals(2, producers.size(), "a new producer");
        CapturingProducer fresh = producers.get(1);
        assertEquals(2, fresh.sent.size(), "records 1 and 2 sent again");
        fresh.ack(0);
        fresh.ack(1);
        cycles(loop, 1);
        assertEquals(indexes.get(2), checkpoint.read());
        assertTrue(loop.lastError().contains("no callback for record"), loop.lastError());
    }

    @Test
    void restartResumesRightAfterTheCheckpoint() {
        append(5);
        ForwarderAgent first = loop();
        cycles(first, 2);
        producers.get(0).ack(0);
        producers.get(0).ack(1);
        cycles(first, 1);
        assertEquals(indexes.get(1), checkpoint.read());

        ForwarderAgent second = loop(); // a new start on the same spool and checkpoint
        cycles(second, 2);
        CapturingProducer p = producers.get(1);
        assertEquals(3, p.sent.size(), "records 2, 3, 4 only");
        assertEquals(String.valueOf(indexes.get(2)), p.spoolIndexOf(0));
    }

    @Test
    void aProducerThatCannotBeBuiltIsRetriedWithBackOffAndForwardingStartsByItself() {
        append(2);
        producerFailuresLeft = 3; // e.g. the broker's host name does not resolve yet
        ForwarderAgent loop = loop();
        assertEquals(State.CONNECTING, loop.state());
        assertTrue(loop.lastError().contains("No resolvable bootstrap urls"), loop.lastError());
        for (int i = 0; i < 10 && producers.isEmpty(); i++) {
            clock.addAndGet(TimeUnit.SECONDS.toNanos(6)); // past the longest back-off
            cycles(loop, 1);
        }
        assertEquals(1, producers.size(), "a producer once the name resolves");
        assertEquals(State.FORWARDING, loop.state());
        cycles(loop, 1);
        producers.get(0).ack(0);
        producers.get(0).ack(1);
        cycles(loop, 1);
        assertEquals(indexes.get(1), checkpoint.read());
        assertEquals(2, loop.delivered());
    }

    @Test
    void aTopicAuthorisationFailureStallsInsteadOfDeadLettering() {
        append(3);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        for (int i = 0; i < 3; i++) {
            p.fail(i, new TopicAuthorizationException("Not authorized to access topics"));
        }
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertEquals(0, loop.deadLettered(), "an ACL mistake is not the records' fault");
        assertEquals(Checkpoint.NONE, checkpoint.read(), "the checkpoint does not pass them");
        assertTrue(loop.lastError().contains("refuses the topic"), loop.lastError());

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 2);
        assertEquals(6, p.sent.size(), "all three sent again, by the same producer");
        assertEquals(1, producers.size());
        for (int i = 3; i < 6; i++) {
            p.ack(i); // the ACL was fixed
        }
        cycles(loop, 1);
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(3, loop.delivered());
        assertEquals(0, loop.deadLettered());
    }

    /**
     * The records sent and not yet acknowledged are held for a resend: bounded in bytes (half the producer's
     * buffer.memory) as well as by count. Before, all 20 records of about 400 bytes were in flight under a
     * bound of 1,000 bytes (a window of 500 records).
     */
    @Test
    void theInFlightWindowIsBoundedByBytesToo() {
        for (int i = 0; i < 20; i++) {
            byte[] json =
                    ("{\"id\":\"r" + i + "\",\"input\":\"" + "x".repeat(400) + "\"}").getBytes(StandardCharsets.UTF_8);
            indexes.add(
                    spool.append(DataType.CHAT_INFERENCE, 0, ("r" + i).getBytes(StandardCharsets.UTF_8), json, null));
        }
        ForwarderAgent loop = loop("batch_size = 100, producer { \"buffer.memory\" = \"2000\" }");
        cycles(loop, 3);
        CapturingProducer p = producers.get(0);
        assertEquals(3, p.sent.size(), "three records of over 400 bytes fill a window of 1,000 bytes");
        for (int i = 0; i < 3; i++) {
            p.ack(i);
        }
        cycles(loop, 3);
        assertEquals(6, p.sent.size(), "room again once they were acknowledged");
        for (int round = 0; p.sent.size() < 20 && round < 20; round++) {
            for (int i = 0; i < p.sent.size(); i++) {
                p.ack(i);
            }
            cycles(loop, 2);
        }
        for (int i = 0; i < p.sent.size(); i++) {
            p.ack(i);
        }
        cycles(loop, 2);
        assertEquals(20, p.sent.size());
        assertEquals(indexes.get(19), checkpoint.read());
        assertEquals(20, loop.delivered());
    }

    /**
     * A batch larger than the topic's segment.bytes is refused whole (the producer splits only batches over
     * max.message.bytes): its records are not at fault, so they wait for the topic to be fixed instead of
     * going to the dead-letter spool.
     */
    @Test
    void aBatchLargerThanTheTopicsSegmentStallsInsteadOfDeadLettering() {
        append(3);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        for (int i = 0; i < 3; i++) {
            p.fail(
                    i,
                    new RecordBatchTooLargeException("Message batch size is 1100000 bytes in append to partition"
                            + " t-0, which exceeds the maximum configured segment size of 1048576."));
        }
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertEquals(0, loop.deadLettered(), "a topic's segment.bytes is not the records' fault");
        assertTrue(loop.lastError().contains("segment.bytes"), loop.lastError());

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 2);
        assertEquals(6, p.sent.size(), "all three sent again");
        for (int i = 3; i < 6; i++) {
            p.ack(i);
        }
        cycles(loop, 1);
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(3, loop.delivered());
        assertEquals(0, loop.deadLettered());
    }

    /**
     * A topic refusal wrapped in a KafkaException is still a topic refusal: waited out with the same producer
     * and said so. Before, only the outer exception was classed: a producer failure, so the producer was
     * replaced and the cause went unsaid.
     */
    @Test
    void aTopicRefusalWrappedInAKafkaExceptionIsWaitedOutWithTheSameProducer() {
        append(2);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        for (int i = 0; i < 2; i++) {
            p.fail(
                    i,
                    new KafkaException(
                            "send failed", new TopicAuthorizationException("Not authorized to access topics")));
        }
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertTrue(loop.lastError().contains("refuses the topic"), loop.lastError());
        assertTrue(loop.lastError().contains("caused by TopicAuthorizationException"), loop.lastError());
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 2);
        assertEquals(1, producers.size(), "the producer is not at fault");
        assertEquals(4, p.sent.size());
        p.ack(2);
        p.ack(3);
        cycles(loop, 1);
        assertEquals(2, loop.delivered());
    }

    /**
     * A wrapped failure is classed by its cause (a topic refusal inside a KafkaException stalls, it does not
     * replace the producer), but a record fault inside one is another record's: the producer wraps the first
     * failure into the failures of the records sent after it, and only the record at fault is dead-lettered.
     */
    @Test
    void aWrappedFailureIsClassedByItsCauseAndAnotherRecordsFaultIsNotThisOnes() {
        append(3);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        RecordTooLargeException tooLarge = new RecordTooLargeException("the message is 2000000 bytes");
        p.fail(0, tooLarge);
        p.fail(
                1,
                new KafkaException(
                        "Cannot perform send because at least one previous transactional or idempotent request has failed"
                                + " with errors.",
                        tooLarge));
        p.fail(
                2,
                new KafkaException("send failed", new TopicAuthorizationException("Not authorized to access topics")));
        cycles(loop, 1);
        assertEquals(1, loop.deadLettered(), "only the record at fault");
        assertEquals(List.of(indexes.get(0)), deadLettered);
        assertEquals(State.BACKING_OFF, loop.state());

        // The producer is in error (it said so for record 1): a new one sends records 1 and 2 again.
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(loop, 3);
        assertEquals(2, producers.size(), "the failed producer was replaced");
        CapturingProducer next = producers.get(1);
        assertEquals(
                List.of("r1", "r2"),
                next.sent.stream()
                        .map(r -> new String(r.key(), StandardCharsets.UTF_8))
                        .toList());
        next.ack(0);
        next.ack(1);
        cycles(loop, 1);
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(2, loop.delivered());
        assertEquals(1, loop.deadLettered());
    }

    @Test
    void aSecondResendDoesNotForgetRecordsAcknowledgedBeforeTheFirst() {
        append(4);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        p.fail(0, new TimeoutException("broker down"));
        p.ack(1);
        p.fail(2, new TimeoutException("broker down"));
        p.ack(3);
        cycles(loop, 1);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 2);
        assertEquals(6, p.sent.size(), "records 0 and 2 sent again");
        p.fail(4, new TimeoutException("broker down again"));
        p.fail(5, new TimeoutException("broker down again"));
        cycles(loop, 1);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
        cycles(loop, 2);
        assertEquals(8, p.sent.size(), "only 0 and 2 again: 1 and 3 stay acknowledged");
        assertEquals(String.valueOf(indexes.get(0)), p.spoolIndexOf(6));
        assertEquals(String.valueOf(indexes.get(2)), p.spoolIndexOf(7));
        p.ack(6);
        p.ack(7);
        cycles(loop, 1);
        assertEquals(indexes.get(3), checkpoint.read());
        assertEquals(4, loop.delivered(), "each record counted once");
    }

    @Test
    void aDeadLetterIsToldAsSuchNotAsAcknowledged() {
        append(2);
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        p.fail(0, new RecordTooLargeException("too large"));
        p.ack(1);
        cycles(loop, 1);
        assertEquals(PublishResult.Status.DEAD_LETTERED, fates.get(indexes.get(0)));
        assertEquals(null, fates.get(indexes.get(1)), "a delivered record has no other fate");
        assertEquals(indexes.get(1), checkpoint.read());
    }

    @Test
    void aCheckpointAheadOfTheSpoolIsRewoundAndTheSourceIdChanges() throws Exception {
        append(3);
        UUID before = spool.sourceId();
        checkpoint.advance(indexes.get(2) + 5); // the OS crash took records the checkpoint had passed
        ForwarderAgent loop = loop();
        assertEquals(indexes.get(2), checkpoint.read(), "back to the spool's last record");
        assertTrue(!before.equals(spool.sourceId()), "a new source id");
        append(2); // new records get indexes the old checkpoint covered
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        assertEquals(2, p.sent.size(), "the new records are forwarded, not skipped");
        assertEquals(
                spool.sourceId().toString(),
                new String(
                        p.sent.get(0)
                                .headers()
                                .lastHeader(KafkaMessages.HEADER_SOURCE_ID)
                                .value(),
                        StandardCharsets.UTF_8));
    }

    /** An error on the forwarder thread is counted by the runner, said in lastError, and forwarding goes on. */
    @Test
    void anErrorOnTheForwarderThreadIsCountedAndForwardingGoesOn() throws Exception {
        append(5);
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { batch_size = 4,"
                        + " spool.dir = \"" + dir.resolve("spool") + "\" }")
                .kafka();
        AtomicLong errors = new AtomicLong();
        DeliveryObserver observer = new DeliveryObserver() {
            @Override
            public void forwarderError() {
                errors.incrementAndGet();
            }
        };
        boolean[] thrown = {false};
        Settlements failingOnce = new Settlements() {
            @Override
            public void onCheckpoint(long cp) {
                if (!thrown[0]) {
                    thrown[0] = true;
                    throw new IllegalStateException("a bug in a listener");
                }
            }

            @Override
            public void onFate(long index, PublishResult.Status fate) {}

            @Override
            public void onLost(long from, long to) {}
        };
        SpaceGuard room = SpaceGuard.measuredByCaller(spool, 1L << 30, 1 << 20, () -> 1L << 40);
        SpaceGuard deadLetterRoom = SpaceGuard.measuredByCaller(deadLetters, 1L << 30, 1 << 20, () -> 1L << 40);
        ForwarderAgent agent = new ForwarderAgent(
                spool,
                deadLetters,
                deadLetterRoom,
                checkpoint,
                room,
                kafka,
                new ForwarderWiring(
                        () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()),
                        null,
                        failingOnce,
                        observer,
                        System::nanoTime,
                        System::currentTimeMillis));
        ForwarderRunner runner = new ForwarderRunner(agent, observer, ForwarderRunner.idleParkNanos(10));
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> checkpoint.read() == indexes.get(4));
            append(3);
            await().atMost(Duration.ofSeconds(30)).until(() -> checkpoint.read() == indexes.get(7));
        } finally {
            runner.drainAndClose(1_000);
        }
        assertEquals(1, errors.get(), "the runner counted the error");
        assertTrue(agent.lastError().contains("a bug in a listener"), agent.lastError());
        assertEquals(indexes.get(7), checkpoint.read(), "forwarding went on after the error");
        assertEquals(8, agent.delivered());
    }

    @Test
    void aLaterRecordOfAKeyWaitsUntilTheEarlierOneIsAcknowledged() {
        for (int i = 0; i < 3; i++) {
            byte[] json = ("{\"inference_id\":\"same\",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8);
            indexes.add(spool.append(DataType.MODEL_INFERENCE, 0, "same".getBytes(StandardCharsets.UTF_8), json, null));
        }
        ForwarderAgent loop = loop();
        cycles(loop, 2);
        CapturingProducer p = producers.get(0);
        assertEquals(1, p.sent.size(), "one record of a key in flight at a time");
        p.fail(0, new TopicAuthorizationException("Not authorized to access topics"));
        cycles(loop, 1);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(150));
        cycles(loop, 2);
        assertEquals(2, p.sent.size(), "the first record again, not the second");
        assertEquals(String.valueOf(indexes.get(0)), p.spoolIndexOf(1));
        p.ack(1);
        cycles(loop, 2);
        assertEquals(String.valueOf(indexes.get(1)), p.spoolIndexOf(2), "the second only after the first");
        p.ack(2);
        cycles(loop, 2);
        p.ack(3);
        cycles(loop, 2);
        assertEquals(indexes.get(2), checkpoint.read());
        assertEquals(3, loop.delivered());
    }

    /** drop_oldest: many publishers asking at once cost one roll file, and only while the spool is still full. */
    @Test
    void manyRequestsForRoomDiscardOneRollFileAndOnlyWhileStillFull() throws Exception {
        long[] nowMs = {1_800_000_000_000L};
        long[] usable = {1L << 40};
        Path dir2 = dir.resolve("rolling");
        try (Spool rolling = rollingSpool(dir2, nowMs);
                Spool dead = new Spool(dir2.resolve("dead-letter"));
                Checkpoint cp = new Checkpoint(dir2.resolve("checkpoint"))) {
            appendThreeRollFiles(rolling, nowMs);
            ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { batch_size = 1,"
                            + " spool { dir = \"" + dir2 + "\", on_full = drop_oldest } }")
                    .kafka();
            SpaceGuard room = SpaceGuard.measuredByCaller(rolling, 1L << 40, 1 << 20, () -> usable[0]);
            SpaceGuard deadRoom = SpaceGuard.measuredByCaller(dead, 1L << 40, 1 << 20, () -> 1L << 40);
            ForwarderAgent agent = capturingAgent(rolling, dead, deadRoom, cp, room, kafka, nowMs);
            agent.onStart();
            cycles(agent, 8); // connects, then sends the first 5 (window 1 x 5, one a cycle), none acknowledged
            assertEquals(5, producers.get(0).sent.size());

            for (int i = 0; i < 8; i++) {
                agent.requestRoom(2000); // eight publishers found the spool full, with room already there
            }
            cycles(agent, 2);
            assertEquals(0, agent.lost(), "a fresh measurement finds room: nothing discarded");

            // Now the disk is nearly full: room for a small record, not for the 2,000-byte ones that ask.
            usable[0] = (1 << 20) + 1000;
            for (int i = 0; i < 8; i++) {
                agent.requestRoom(2000);
            }
            cycles(agent, 1);
            assertEquals(4, agent.lost(), "one roll file (4 records) for eight requests");
            assertTrue(agent.canDiscard(), "two roll files remain");
            cycles(agent, 3);
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < producers.get(0).sent.size(); i++) {
                sent.add(producers.get(0).spoolIndexOf(i));
            }
            assertEquals(
                    sent.size(),
                    new HashSet<>(sent).size(),
                    "the reader was not moved back: nothing sent twice " + sent);
            room.close();
            deadRoom.close();
        }
    }
    /**
     * drop_oldest: a process that deleted a roll file to make room and ended before it counted the file's
     * records lost and moved the checkpoint past them. Before, the next start skipped the gone file and nobody
     * ever counted them; now the note the discard left counts them at the next start, once.
     */
    @Test
    void aCrashBetweenDiscardingARollFileAndItsBookkeepingCountsItsRecordsLostOnceAtTheNextStart() throws Exception {
        long[] nowMs = {1_800_000_000_000L};
        Path dir2 = dir.resolve("rolling");
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { batch_size = 1,"
                        + " spool { dir = \"" + dir2 + "\", on_full = drop_oldest } }")
                .kafka();
        long nextIndex;
        try (Spool rolling = rollingSpool(dir2, nowMs)) {
            appendThreeRollFiles(rolling, nowMs);
            // The dying process: the oldest file (4 unforwarded records) deleted, then nothing more.
            RollFiles files = new RollFiles(rolling, Duration.ofHours(1));
            RollFiles.Discarded d = files.oldestDiscardable(Checkpoint.NONE);
            assertEquals(4, d.unsettled());
            files.discard(d, d.unsettled());
            nextIndex = d.nextIndex();
        }
        for (int start = 0; start < 2; start++) {
            try (Spool rolling = rollingSpool(dir2, nowMs);
                    Spool dead = new Spool(dir2.resolve("dead-letter"));
                    Checkpoint cp = new Checkpoint(dir2.resolve("checkpoint"));
                    SpaceGuard room = SpaceGuard.measuredByCaller(rolling, 1L << 40, 1 << 20, () -> 1L << 40);
                    SpaceGuard deadRoom = SpaceGuard.measuredByCaller(dead, 1L << 40, 1 << 20, () -> 1L << 40)) {
                ForwarderAgent agent = capturingAgent(rolling, dead, deadRoom, cp, room, kafka, nowMs);
                agent.onStart();
                if (start == 0) {
                    assertEquals(4, agent.lost(), "the discarded file's records, counted at the next start");
                    assertEquals(nextIndex - 1, cp.read(), "the checkpoint moved past the gone file");
                } else {
                    assertEquals(0, agent.lost(), "counted once: not again at the start after");
                }
            }
        }
    }

    /** A spool that rolls every second of {@code nowMs}, the test's wall clock. */
    private static Spool rollingSpool(Path dir, long[] nowMs) throws Exception {
        return new Spool(
                dir, Spool.Settings.defaults().rollPeriod(RollPeriod.SECONDLY).wallClock(() -> nowMs[0]));
    }

    /** Three roll files of four records each, the clock a second on after each. */
    private static void appendThreeRollFiles(Spool rolling, long[] nowMs) {
        for (int second = 0; second < 3; second++) {
            for (int i = 0; i < 4; i++) {
                rolling.append(
                        DataType.CHAT_INFERENCE,
                        nowMs[0],
                        ("k" + second + i).getBytes(StandardCharsets.UTF_8),
                        ("{\"id\":\"k" + second + i + "\"}").getBytes(StandardCharsets.UTF_8),
                        null);
            }
            nowMs[0] += 1000; // the next roll file
        }
    }

    /** An agent over these files whose producers are CapturingProducers, kept in {@link #producers}. */
    private ForwarderAgent capturingAgent(
            Spool spool,
            Spool dead,
            SpaceGuard deadRoom,
            Checkpoint cp,
            SpaceGuard room,
            ForwarderConfig.Kafka kafka,
            long[] nowMs) {
        return new ForwarderAgent(
                spool,
                dead,
                deadRoom,
                cp,
                room,
                kafka,
                new ForwarderWiring(
                        () -> {
                            CapturingProducer p = new CapturingProducer();
                            producers.add(p);
                            return p;
                        },
                        null,
                        Settlements.NONE,
                        DeliveryObserver.NONE,
                        clock::get,
                        () -> nowMs[0]));
    }
}
