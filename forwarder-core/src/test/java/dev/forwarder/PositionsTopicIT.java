package dev.forwarder;

import static dev.forwarder.testkit.Flow.awaitDelivered;
import static dev.forwarder.testkit.Flow.publish;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.kafka.Positions;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delivery = exactly_once}: the positions topic stays small however many transactions commit, is set
 * right when it exists with the broker's defaults, and is created again when deleted while forwarding. The
 * broker creates no topic on first use (as in production), and its log cleaner looks for work every second.
 */
@KafkaTest(brokerProperties = {"auto.create.topics.enable=false", "log.cleaner.backoff.ms=1000"})
class PositionsTopicIT {

    private static ForwarderConfig config(KafkaBroker broker, Path dir, String prefix) {
        return TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .prefix(prefix)
                .with("gateway.observability.kafka.delivery = exactly_once")
                .with("gateway.observability.kafka.batch_size = 20")
                .build();
    }

    /**
     * Each transaction writes a position: before, they all stayed in the topic's first segment (1 GiB or 7
     * days) where compaction never reaches, and a start read every one of them. Now a start reads about one
     * record per spool, and at most a segment of positions besides.
     */
    @Test
    void aStartReadsAboutOneRecordPerSpoolHoweverManyTransactionsCommitted(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "pos" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = config(broker, dir, prefix);
        Forwarder.start(config).close(); // creates the topics
        String topic = config.kafka().positionsTopic();
        List<UUID> spools = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            spools.add(UUID.randomUUID());
        }
        int written = 60_000; // about 7 MB of positions: 60,000 transactions of ten spools
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(broker))) {
            for (int i = 0; i < written; i++) {
                producer.send(Positions.record(topic, spools.get(i % 10), i, 1, System.currentTimeMillis()));
            }
            producer.flush();
        }
        // 8,000 positions fill a segment: the active one, and one the cleaner may not have reached yet.
        long bound = 2 * 8_000 + spools.size();
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    long records = recordsInTopic(broker, topic);
                    assertTrue(
                            records <= bound,
                            records + " records in " + topic + " after " + written + " positions of " + spools.size()
                                    + " spools; a start reads them all");
                });
        // Still exact: each spool's last position.
        for (int s = 0; s < spools.size(); s++) {
            assertEquals(
                    written - spools.size() + s,
                    Positions.read(config.kafka(), spools.get(s), Duration.ofSeconds(30)),
                    "the last position of spool " + s);
        }
        // A retired spool forgotten with a tombstone (README: kcat -Z) has no position any more.
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(broker))) {
            byte[] key = spools.get(0).toString().getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(topic, key, null)).get();
        }
        assertEquals(Positions.NONE, Positions.read(config.kafka(), spools.get(0), Duration.ofSeconds(30)));
        assertEquals(written - 1, Positions.read(config.kafka(), spools.get(9), Duration.ofSeconds(30)));
    }

    /**
     * A positions topic that exists with the broker's defaults (created on first use by a broker that allows
     * it, or by an earlier version) is set to compact in small segments at start; what an operator set on the
     * topic stays.
     */
    @Test
    void anExistingTopicIsSetToCompactAndAnOperatorsOwnSettingIsKept(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "pos" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = config(broker, dir, prefix);
        String topic = config.kafka().positionsTopic();
        try (Admin admin = broker.admin()) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())
                            .configs(Map.of("segment.ms", "600000"))))
                    .all()
                    .get();
        }
        Forwarder.start(config).close();
        Config topicConfig = topicConfig(broker, topic);
        assertEquals("compact", topicConfig.get("cleanup.policy").value());
        assertEquals("1048576", topicConfig.get("segment.bytes").value());
        assertEquals("3600000", topicConfig.get("max.compaction.lag.ms").value());
        assertEquals("600000", topicConfig.get("segment.ms").value(), "the operator's own setting");
    }

    /**
     * The positions topic deleted while forwarding: before, the forwarder could not read its position and
     * waited until a restart created the topic again. Now it creates it again (compacted) and goes on from
     * its checkpoint: every record arrives, none twice.
     */
    @Test
    void thePositionsTopicDeletedWhileForwardingIsCreatedAgainAndNoRecordIsLostOrCommittedTwice(
            KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "pos" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = config(broker, dir, prefix);
        String topic = config.kafka().positionsTopic();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, ids, 0, 100);
            awaitDelivered(forwarder, 100);
            try (Admin admin = broker.admin()) {
                admin.deleteTopics(List.of(topic)).all().get();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> !admin.listTopics().names().get().contains(topic));
            }
            publish(forwarder, run, ids, 100, 200);
            awaitDelivered(forwarder, 200);
        }
        Delivered delivered = Delivered.read(broker.readCommittedProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(0, delivered.duplicates(), "no record committed twice");
        assertEquals("compact", topicConfig(broker, topic).get("cleanup.policy").value());
    }

    private static Map<String, Object> producerProps(KafkaBroker broker) {
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        return props;
    }

    /** The records a start's read goes through: every one from the beginning to the end of the partition. */
    private static long recordsInTopic(KafkaBroker broker, String topic) {
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            long count = 0;
            while (consumer.position(partition) < end) {
                count += consumer.poll(Duration.ofMillis(200)).count();
            }
            return count;
        }
    }

    private static Config topicConfig(KafkaBroker broker, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = broker.admin()) {
            return admin.describeConfigs(List.of(resource)).all().get().get(resource);
        }
    }
}
