package dev.forwarder.internal.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.ForwarderConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

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
     * about one record per spool ever forwarded) up to its last stable offset.
     *
     * @throws org.apache.kafka.common.KafkaException or a time-out when the topic cannot be read
     */
    public static long read(ForwarderConfig.Kafka kafka, UUID sourceId, Duration timeout) {
        byte[] key = sourceId.toString().getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(ProducerSettings.readCommittedConsumer(kafka))) {
            List<PartitionInfo> infos = consumer.partitionsFor(kafka.positionsTopic(), timeout);
            if (infos == null || infos.isEmpty()) {
                throw new UnknownTopicOrPartitionException(
                        "the positions topic " + kafka.positionsTopic() + " does not exist");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // With read_committed, the end offsets are the last stable offsets: nothing undecided is waited for.
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
            long position = NONE;
            while (!reached(consumer, ends)) {
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException(
                            "reading " + kafka.positionsTopic() + " took longer than " + timeout.toMillis() + " ms");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.key() != null && Arrays.equals(r.key(), key) && r.value() != null) {
                        position = index(r.value());
                    }
                }
            }
            return position;
        }
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
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
