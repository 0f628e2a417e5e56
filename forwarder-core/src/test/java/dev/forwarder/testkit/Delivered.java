package dev.forwarder.testkit;

import dev.forwarder.DataType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What arrived in Kafka, read back with a real consumer from every topic of a prefix: how often each key
 * (the record id) arrived. The accounting that the delivery tests assert on.
 */
public final class Delivered {

    private final Map<String, Integer> countsByKey = new HashMap<>();
    private final Map<DataType, Integer> countsByType = new HashMap<>();
    private int messages;

    private Delivered() {}

    /** Reads all three topics until at least {@code expected} messages arrived in total (or 90 s pass). */
    public static Delivered read(Map<String, Object> clientProps, String topicPrefix, int expected) {
        Delivered d = new Delivered();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        // Topics are read one after another: wait on the last for whatever the others lacked.
        for (DataType type : DataType.values()) {
            List<ConsumerRecord<byte[], byte[]>> records = TopicReader.readAll(
                    clientProps,
                    type.topic(topicPrefix),
                    type == DataType.JSON_INFERENCE ? Math.max(0, expected - d.messages) : 0,
                    Duration.ofNanos(Math.max(Duration.ofSeconds(5).toNanos(), deadline - System.nanoTime())));
            for (ConsumerRecord<byte[], byte[]> r : records) {
                d.messages++;
                d.countsByType.merge(type, 1, Integer::sum);
                String key = r.key() == null ? "<null>" : new String(r.key(), StandardCharsets.UTF_8);
                d.countsByKey.merge(key, 1, Integer::sum);
            }
        }
        return d;
    }

    public int messages() {
        return messages;
    }

    public int distinct() {
        return countsByKey.size();
    }

    /** Messages beyond the first of each key. */
    public int duplicates() {
        return messages - countsByKey.size();
    }

    public int count(String key) {
        return countsByKey.getOrDefault(key, 0);
    }

    public int count(DataType type) {
        return countsByType.getOrDefault(type, 0);
    }

    /** The ids of {@code offered} that never arrived, sorted; empty when all did. */
    public Set<String> missing(Iterable<String> offered) {
        Set<String> missing = new TreeSet<>();
        for (String id : offered) {
            if (!countsByKey.containsKey(id)) {
                missing.add(id);
            }
        }
        return missing;
    }
}
