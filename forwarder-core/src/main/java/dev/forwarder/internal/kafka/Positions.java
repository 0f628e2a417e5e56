package dev.forwarder.internal.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.ForwarderConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code delivery = exactly_once}: the spool positions committed in Kafka, in the compacted topic
 * {@code {topic_prefix}_forwarder_positions}. Each transaction writes one record, key = the spool's source
 * id, value = {@code {"source_id": "...", "spool_index": N, "records": n, "committed_at_ms": t}}: the last
 * spool index the transaction carried. Read with {@code isolation.level = read_committed}, the last value of
 * a source id is where its forwarder resumes.
 */
public final class Positions {

    /** No committed position for this source id. */
    public static final long NONE = -1;

    private static final Logger LOG = LoggerFactory.getLogger(Positions.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Positions() {}

    /** The position record of a transaction that carries records up to {@code spoolIndex}. */
    public static ProducerRecord<byte[], byte[]> record(
            String topic, UUID sourceId, long spoolIndex, int records, long nowMs) {
        String value = "{\"source_id\":\"" + sourceId + "\",\"spool_index\":" + spoolIndex + ",\"records\":" + records
                + ",\"committed_at_ms\":" + nowMs + "}";
        return new ProducerRecord<>(
                topic, sourceId.toString().getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The last committed position of {@code sourceId}, or {@link #NONE}: reads the whole topic (compacted:
     * about one record per spool ever forwarded) up to its high watermark as it was when the read began, and
     * only once everything below it is decided.
     *
     * <p>Exact whatever other forwarders on the prefix do: they write their positions to the same topic, and
     * a read_committed consumer stops at the last stable offset, below the first transaction still open. Had
     * it stopped there, another forwarder's open transaction would hide this spool's newer positions, written
     * after that transaction began, and the spool would resume too early and commit records twice. So the read
     * waits for the last stable offset to pass the high watermark it saw first: the transactions open then
     * end within their producers' {@code transaction.timeout.ms}; ones begun later lie above it and are not
     * waited for.
     *
     * @throws org.apache.kafka.common.KafkaException or a time-out (saying what it waits for) when the topic
     *                                                cannot be read in {@code timeout}
     */
    public static long read(ForwarderConfig.Kafka kafka, UUID sourceId, Duration timeout) {
        try {
            return readExisting(kafka, sourceId, timeout);
        } catch (UnknownTopicOrPartitionException gone) {
            // Deleted while forwarding (or since the start-up check). Kafka's record of what every spool of the
            // prefix committed is gone with it: this spool goes on after its local checkpoint, which follows
            // Kafka's position (exact within a process; after a restart it may be behind the last commit).
            if (!PositionsTopic.recreate(kafka, timeout)) {
                return readExisting(kafka, sourceId, timeout); // another forwarder created it first
            }
            LOG.error(
                    "the positions topic {} was gone (deleted?) and was created again: spool source {} goes on"
                            + " after its local checkpoint (exact in a running process; after a crash, the records"
                            + " committed after the checkpoint was last written are committed again)",
                    kafka.positionsTopic(),
                    sourceId);
            return NONE;
        }
    }

    private static long readExisting(ForwarderConfig.Kafka kafka, UUID sourceId, Duration timeout) {
        Map<String, Object> uncommittedProps = new HashMap<>(ProducerSettings.readCommittedConsumer(kafka));
        uncommittedProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        try (KafkaConsumer<byte[], byte[]> committed =
                        new KafkaConsumer<>(ProducerSettings.readCommittedConsumer(kafka));
                KafkaConsumer<byte[], byte[]> uncommitted = new KafkaConsumer<>(uncommittedProps)) {
            return read(committed, uncommitted, kafka.positionsTopic(), sourceId, timeout, System::nanoTime);
        }
    }

    /**
     * The read itself, with the consumers given (the simulation's, over its simulated topic).
     *
     * @param committed   reads with {@code isolation.level = read_committed}
     * @param uncommitted tells the high watermarks ({@code read_uncommitted} end offsets)
     * @param nanoClock   the clock of the time-out
     */
    public static long read(
            Consumer<byte[], byte[]> committed,
            Consumer<byte[], byte[]> uncommitted,
            String topic,
            UUID sourceId,
            Duration timeout,
            LongSupplier nanoClock) {
        byte[] key = sourceId.toString().getBytes(StandardCharsets.UTF_8);
        long deadline = nanoClock.getAsLong() + timeout.toNanos();
        List<PartitionInfo> infos = committed.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            throw new UnknownTopicOrPartitionException("the positions topic " + topic + " does not exist");
        }
        List<TopicPartition> partitions = new ArrayList<>();
        infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        // Everything written so far; read on until all of it is decided (the last stable offsets pass it).
        Map<TopicPartition, Long> ends = uncommitted.endOffsets(partitions, timeout);
        committed.assign(partitions);
        committed.seekToBeginning(partitions);
        long position = NONE;
        while (!reached(committed, ends)) {
            if (nanoClock.getAsLong() - deadline > 0) {
                throw new TimeoutException("reading " + topic + " took longer than " + timeout.toMillis()
                        + " ms: read to " + positions(committed, partitions) + ", waiting to read to "
                        + ends.values() + "; the last stable offsets are "
                        + committed.endOffsets(partitions, timeout).values()
                        + " (a transaction another forwarder on this prefix holds open keeps them back until it"
                        + " ends, at most its transaction.timeout.ms)");
            }
            for (ConsumerRecord<byte[], byte[]> r : committed.poll(Duration.ofMillis(100))) {
                if (r.offset() < ends.get(new TopicPartition(r.topic(), r.partition()))
                        && r.key() != null
                        && Arrays.equals(r.key(), key)) {
                    position = r.value() == null ? NONE : index(r.value()); // a tombstone: the spool forgotten
                }
            }
        }
        return position;
    }

    private static List<Long> positions(Consumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
        List<Long> out = new ArrayList<>();
        partitions.forEach(p -> out.add(consumer.position(p)));
        return out;
    }

    private static boolean reached(Consumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    static long index(byte[] value) {
        try {
            JsonNode node = JSON.readTree(value);
            return node.get("spool_index").asLong();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "a record of the positions topic is not a position: " + new String(value, StandardCharsets.UTF_8),
                    e);
        }
    }
}
