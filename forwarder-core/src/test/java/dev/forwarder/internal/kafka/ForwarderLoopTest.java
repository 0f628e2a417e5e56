package dev.forwarder.internal.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus.State;
import dev.forwarder.internal.journal.Checkpoint;
import dev.forwarder.internal.journal.Spool;
import dev.forwarder.internal.journal.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarding logic without a broker: Kafka's MockProducer with acknowledgements completed by the test,
 * in any order, and an injected clock. The real-broker behaviour is in the *IT tests.
 */
class ForwarderLoopTest {

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Long> checkpoints = new ArrayList<>();
    private final List<String> deadLetterReasons = new ArrayList<>();
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
            return new String(sent.get(i).headers().lastHeader(KafkaMessages.HEADER_SPOOL_INDEX).value(),
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

    private ForwarderLoop loop() {
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { batch_size = 4,"
                + " spool.dir = \"" + dir.resolve("spool") + "\" }").kafka();
        ForwarderLoop loop = new ForwarderLoop(spool, deadLetters, checkpoint, () -> {
            CapturingProducer p = new CapturingProducer();
            producers.add(p);
            return p;
        }, kafka, false, new ForwarderLoop.Listener() {
            @Override
            public void onCheckpoint(long cp) {
                checkpoints.add(cp);
            }

            @Override
            public void onDeadLetter(long index, String reason) {
                deadLetterReasons.add(reason);
            }
        }, DeliveryObserver.NONE, clock::get);
        loop.open();
        return loop;
    }

    private void append(int n) {
        for (int i = 0; i < n; i++) {
            byte[] json = ("{\"id\":\"r" + indexes.size() + "\"}").getBytes(StandardCharsets.UTF_8);
            indexes.add(spool.append(DataType.CHAT_INFERENCE, 0, ("r" + indexes.size()).getBytes(StandardCharsets.UTF_8),
                    json, null));
        }
    }

    private void cycles(ForwarderLoop loop, int n) {
        for (int i = 0; i < n; i++) {
            loop.doWork(clock.get());
        }
    }

    @Test
    void checkpointAdvancesOnlyOverAContiguousRunOfAcknowledgements() {
        append(10);
        ForwarderLoop loop = loop();
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
        ForwarderLoop loop = loop();
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
        ForwarderLoop loop = loop();
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
        ForwarderLoop loop = loop();
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
        assertTrue(deadLetterReasons.get(0).contains("RecordTooLargeException"), deadLetterReasons.toString());

        ExcerptTailer tailer = deadLetters.createTailer();
        try (DocumentContext dc = tailer.readingDocument()) {
            SpoolRecord.Entry dead = SpoolRecord.decode(dc.index(), dc.wire().bytes());
            assertEquals("r1", dead.key());
            assertEquals("{\"id\":\"r1\"}", new String(dead.payload(), StandardCharsets.UTF_8));
            assertTrue(dead.note().contains("2000000 bytes"), dead.note());
        }
    }

    @Test
    void aCorruptRecordIsCountedAndSkipped() {
        append(2);
        ExcerptAppender raw = spool.queue().createAppender();
        try (DocumentContext dc = raw.writingDocument()) {
            dc.wire().bytes().write("not a spool record at all, 40 bytes long".getBytes(StandardCharsets.UTF_8));
        }
        indexes.add(raw.lastIndexAppended());
        raw.close();
        append(1);
        ForwarderLoop loop = loop();
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
        ForwarderLoop loop = loop();
        cycles(loop, 2);
        CapturingProducer stuck = producers.get(0);
        stuck.ack(0);
        cycles(loop, 1);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(14));
        cycles(loop, 2);
        assertEquals(State.FORWARDING, loop.state(), "14 s without an acknowledgement is still patience");

        clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
        cycles(loop, 1);
        assertEquals(State.BACKING_OFF, loop.state());
        assertTrue(stuck.closed(), "the stuck producer was closed");
        // As KafkaProducer.close(0) does: every incomplete send fails.
        stuck.fail(1, new org.apache.kafka.common.KafkaException("Producer is closed forcefully."));
        stuck.fail(2, new org.apache.kafka.common.KafkaException("Producer is closed forcefully."));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        cycles(loop, 3);
        assertEquals(2, producers.size(), "a new producer");
        CapturingProducer fresh = producers.get(1);
        assertEquals(2, fresh.sent.size(), "records 1 and 2 sent again");
        fresh.ack(0);
        fresh.ack(1);
        cycles(loop, 1);
        assertEquals(indexes.get(2), checkpoint.read());
        assertTrue(loop.lastError().contains("no acknowledgement for record"), loop.lastError());
    }

    @Test
    void restartResumesRightAfterTheCheckpoint() {
        append(5);
        ForwarderLoop first = loop();
        cycles(first, 2);
        producers.get(0).ack(0);
        producers.get(0).ack(1);
        cycles(first, 1);
        assertEquals(indexes.get(1), checkpoint.read());

        ForwarderLoop second = loop(); // a new start on the same spool and checkpoint
        cycles(second, 2);
        CapturingProducer p = producers.get(1);
        assertEquals(3, p.sent.size(), "records 2, 3, 4 only");
        assertEquals(String.valueOf(indexes.get(2)), p.spoolIndexOf(0));
    }
}
