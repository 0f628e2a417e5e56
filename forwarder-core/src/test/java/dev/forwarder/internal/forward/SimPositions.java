package dev.forwarder.internal.forward;

import dev.forwarder.internal.kafka.Positions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The exactly-once simulation's positions topic: one partition whose records belong to transactions, of this
 * spool's producers and of other forwarders on the prefix (a fleet), open, committed or aborted. The product's
 * own read ({@link Positions#read}) runs against it through MockConsumers: a read_committed one that returns
 * records only below the last stable offset (the first record of a transaction still open) and skips
 * aborted ones, and a read_uncommitted one that tells the high watermark. Its polls move the simulated clock,
 * so a read that waits for a transaction times out in simulated time.
 */
final class SimPositions {

    /** A transaction of the positions topic's log. */
    static final class Txn {
        final long beganNanos;
        boolean open = true;
        boolean committed;

        Txn(long beganNanos) {
            this.beganNanos = beganNanos;
        }
    }

    private record Entry(UUID source, long index, Txn txn) {}

    private final String topic;
    private final TopicPartition partition;
    private final SimulationHarness.Clock clock;
    /** Runs before every poll (the coordinator's time-outs, as simulated time passes). */
    private final Runnable beforePoll;

    private final List<Entry> log = new ArrayList<>();

    SimPositions(String topic, SimulationHarness.Clock clock, Runnable beforePoll) {
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.clock = clock;
        this.beforePoll = beforePoll;
    }

    Txn begin() {
        return new Txn(clock.now());
    }

    /** A position record written in {@code txn}. */
    void write(Txn txn, UUID source, long index) {
        log.add(new Entry(source, index, txn));
    }

    void commit(Txn txn) {
        txn.open = false;
        txn.committed = true;
    }

    void abort(Txn txn) {
        txn.open = false;
    }

    /** The offset of the first record of a transaction still open, or the high watermark. */
    long lastStable() {
        for (int i = 0; i < log.size(); i++) {
            if (log.get(i).txn().open) {
                return i;
            }
        }
        return log.size();
    }

    /** What Kafka has committed for {@code source} (the truth, for the final check). */
    long committedPosition(UUID source) {
        long position = Positions.NONE;
        for (Entry e : log) {
            if (e.txn().committed && e.source().equals(source)) {
                position = e.index();
            }
        }
        return position;
    }

    /** The product's read, against this topic, in simulated time. */
    long read(UUID source) {
        try (MockConsumer<byte[], byte[]> committed = new Committed();
                MockConsumer<byte[], byte[]> uncommitted = new MockConsumer<>("earliest")) {
            describe(committed);
            committed.updateEndOffsets(Map.of(partition, lastStable()));
            describe(uncommitted);
            uncommitted.updateEndOffsets(Map.of(partition, (long) log.size()));
            return Positions.read(committed, uncommitted, topic, source, Duration.ofSeconds(10), clock::now);
        }
    }

    private void describe(MockConsumer<byte[], byte[]> consumer) {
        consumer.updatePartitions(topic, List.of(new PartitionInfo(topic, 0, null, null, null)));
        consumer.updateBeginningOffsets(Map.of(partition, 0L));
    }

    /** read_committed: at each poll, the records up to the last stable offset, aborted ones as blanks. */
    private final class Committed extends MockConsumer<byte[], byte[]> {
        private long added;

        Committed() {
            super("earliest");
        }

        @Override
        public synchronized ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            beforePoll.run();
            clock.advance(timeout.toNanos(), TimeUnit.NANOSECONDS);
            long stable = lastStable();
            updateEndOffsets(Map.of(partition, stable));
            for (; added < stable; added++) {
                Entry e = log.get((int) added);
                // A real consumer skips aborted records and moves past them: a record without key or value,
                // which the read ignores, moves this one past them alike.
                boolean visible = e.txn().committed;
                addRecord(new ConsumerRecord<>(
                        topic,
                        0,
                        added,
                        visible ? e.source().toString().getBytes(StandardCharsets.UTF_8) : null,
                        visible
                                ? ("{\"source_id\":\"" + e.source() + "\",\"spool_index\":" + e.index() + "}")
                                        .getBytes(StandardCharsets.UTF_8)
                                : null));
            }
            return super.poll(timeout);
        }
    }
}
