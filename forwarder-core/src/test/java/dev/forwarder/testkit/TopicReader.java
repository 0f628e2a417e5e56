package dev.forwarder.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a topic back with a real consumer, from the beginning of every partition. */
public final class TopicReader {

    private TopicReader() {}

    /**
     * Reads every message of {@code topic}, waiting (up to 60 s) until at least {@code expected} have
     * arrived, then until the end offsets of all partitions are reached.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(
            Map<String, Object> clientProps, String topic, int expected) {
        return readAll(clientProps, topic, expected, Duration.ofSeconds(60));
    }

    public static List<ConsumerRecord<byte[], byte[]>> readAll(
            Map<String, Object> clientProps, String topic, int expected, Duration timeout) {
        Map<String, Object> props = new HashMap<>(clientProps);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = List.of();
            while (partitions.isEmpty() && System.nanoTime() < deadline) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                partitions = infos == null
                        ? List.of()
                        : infos.stream()
                                .map(p -> new TopicPartition(p.topic(), p.partition()))
                                .collect(Collectors.toList());
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (records.size() >= expected && atEnd(consumer, partitions)) {
                    break;
                }
            }
        }
        return records;
    }

    private static boolean atEnd(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(10));
        return partitions.stream().allMatch(p -> consumer.position(p) >= ends.get(p));
    }
}
