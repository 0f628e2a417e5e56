package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.testkit.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The broker the benchmarks measure against: the test fixture's real Kafka broker, a child JVM on a free
 * loopback port, started once per benchmark trial. Also the spool directories the trials use.
 */
final class BenchmarkBroker {

    private BenchmarkBroker() {
    }

    static KafkaBroker start() {
        KafkaBroker broker = KafkaBroker.builder().build();
        broker.start();
        return broker;
    }

    /**
     * Three new topics of three partitions, each partition already written once (by a throwaway
     * producer), so that the measured run meets partitions that are fully led: the first produce to a
     * partition the broker has only just taken over can hit NOT_LEADER_OR_FOLLOWER and leave an
     * idempotent producer stuck retrying (KAFKA-14359), which is a start-up cost, not throughput.
     */
    static String freshTopics(KafkaBroker kafka) throws Exception {
        String prefix = "b" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String[] topics = java.util.Arrays.stream(DataType.values()).map(t -> t.topic(prefix)).toArray(String[]::new);
        kafka.createTopics(3, topics);
        Map<String, Object> props = new HashMap<>(kafka.clientProperties());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> warm =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String topic : topics) {
                for (int partition = 0; partition < 3; partition++) {
                    warm.send(new ProducerRecord<>(topic, partition, null, "warm-up".getBytes(StandardCharsets.UTF_8)))
                            .get(60, TimeUnit.SECONDS);
                }
            }
        }
        return prefix;
    }

    static Path tempDir(String name) throws java.io.IOException {
        return Files.createTempDirectory("bench-" + name + "-");
    }

    static void delete(Path dir) throws java.io.IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
