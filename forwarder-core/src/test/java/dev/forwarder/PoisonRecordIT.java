package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.SpoolContents;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record over its topic's maximum message size can never be delivered: one accepted before the topic's
 * limit was lowered lands in the dead-letter spool with its reason, is counted, and the records after it are
 * delivered. (One larger than the limit the forwarder knows is refused at publish: {@code LargeRecordsIT}.)
 */
@KafkaTest(brokerProperties = "message.max.bytes=20000")
class PoisonRecordIT {

    @Test
    void anOversizedRecordIsDeadLetteredAndTheRestIsDelivered(KafkaBroker broker, @TempDir Path dir) throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        UUID run = UUID.randomUUID();
        List<String> small = new ArrayList<>();
        String poisonId = Records.id(run, 999);
        ForwarderStatus status;
        long poisonIndex;
        // The topics take 200,000-byte messages when the forwarder starts and learns their limit; then the chat
        // topic is lowered to 20,000 (the broker's own limit here) while it runs. A record the forwarder accepted
        // under the old limit is refused by Kafka for good.
        try (Admin admin = Admin.create(broker.clientProperties())) {
            List<NewTopic> topics = new ArrayList<>();
            for (DataType type : DataType.values()) {
                topics.add(new NewTopic(config.kafka().topic(type), 1, (short) 1)
                        .configs(Map.of("max.message.bytes", "200000")));
            }
            admin.createTopics(topics).all().get();
        }
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 10; i++) {
                small.add(publishSmall(forwarder, run, i));
            }
            setMaxMessageBytes(broker, config.kafka().topic(DataType.CHAT_INFERENCE), "20000");
            // Random text: lz4 cannot shrink it under the broker's 20,000-byte limit.
            byte[] noise = new byte[45_000];
            new Random(7).nextBytes(noise);
            String big =
                    "{\"id\":\"" + poisonId + "\",\"function_name\":\"f\",\"input\":{\"messages\":[{\"role\":\"user\","
                            + "\"content\":\"" + Base64.getEncoder().encodeToString(noise) + "\"}]}}";
            PublishResult poison = forwarder.publish(DataType.CHAT_INFERENCE, big);
            assertTrue(poison.accepted());
            poisonIndex = poison.spoolIndex();
            for (int i = 10; i < 20; i++) {
                small.add(publishSmall(forwarder, run, i));
            }
            forwarder.close();
            status = forwarder.status();
        }
        assertEquals(1, status.deadLettered(), status.toString());
        assertEquals(20, status.delivered());
        assertEquals(
                status.appended(), status.delivered() + status.deadLettered() + status.corrupt() + status.backlog());

        Delivered delivered =
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 20);
        assertEquals(List.of(), List.copyOf(delivered.missing(small)), "records after the poison one were delivered");
        assertEquals(0, delivered.count(poisonId));

        List<SpoolRecord.Entry> dead;
        try (Spool deadLetters = new Spool(dir.resolve("spool/dead-letter"))) {
            dead = SpoolContents.of(deadLetters);
        }
        assertEquals(1, dead.size(), "a dead letter was written");
        assertEquals(poisonId, dead.get(0).key());
        assertTrue(
                dead.get(0).note().contains("RecordTooLargeException"),
                dead.get(0).note());
        assertTrue(new String(dead.get(0).payload(), StandardCharsets.UTF_8).contains(poisonId));

        // Redrive: refused while a forwarder runs on the spool, naming it.
        try (Forwarder running = Forwarder.start(config)) {
            ForwarderException busy =
                    Assertions.assertThrows(ForwarderException.class, () -> Forwarder.redrive(config, null, null));
            assertTrue(
                    busy.getMessage()
                            .contains(String.valueOf(ProcessHandle.current().pid())),
                    busy.getMessage());
        }
        // Still too large: refused again, and kept.
        RedriveResult again = Forwarder.redrive(config, null, DataType.CHAT_INFERENCE);
        assertEquals(new RedriveResult(1, 0, 1, 1), again);
        // The cause fixed (the topic takes larger messages now): delivered, with its original headers, and removed.
        String topic = config.kafka().topic(DataType.CHAT_INFERENCE);
        setMaxMessageBytes(broker, topic, "200000");
        assertEquals(
                new RedriveResult(0, 0, 0, 1),
                Forwarder.redrive(config, null, DataType.MODEL_INFERENCE),
                "the type filter selects nothing");
        assertEquals(new RedriveResult(1, 1, 0, 0), Forwarder.redrive(config, null, null));
        assertEquals(new RedriveResult(0, 0, 0, 0), Forwarder.redrive(config, null, null), "nothing left to send");
        String source;
        try (Spool spool = new Spool(dir.resolve("spool"))) {
            source = spool.sourceId().toString();
        }
        List<ConsumerRecord<byte[], byte[]>> arrived = TopicReader.readAll(broker.clientProperties(), topic, 21);
        List<ConsumerRecord<byte[], byte[]>> redriven = arrived.stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals(poisonId))
                .toList();
        assertEquals(1, redriven.size(), "the dead letter arrived once");
        assertEquals(String.valueOf(poisonIndex), header(redriven.get(0), "spool_index"));
        assertEquals(source, header(redriven.get(0), "source_id"));
    }

    private static void setMaxMessageBytes(KafkaBroker broker, String topic, String bytes) throws Exception {
        try (Admin admin = Admin.create(broker.clientProperties())) {
            admin.incrementalAlterConfigs(Map.of(
                            new ConfigResource(ConfigResource.Type.TOPIC, topic),
                            List.of(new AlterConfigOp(
                                    new ConfigEntry("max.message.bytes", bytes), AlterConfigOp.OpType.SET))))
                    .all()
                    .get();
            // The broker applies it from its metadata, and answers describeConfigs from the same: wait for it.
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> bytes.equals(admin.describeConfigs(List.of(resource))
                            .all()
                            .get()
                            .get(resource)
                            .get("max.message.bytes")
                            .value()));
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static String publishSmall(Forwarder forwarder, UUID run, int seq) {
        String id = Records.id(run, seq);
        assertTrue(forwarder
                .publish(DataType.CHAT_INFERENCE, "{\"id\":\"" + id + "\",\"function_name\":\"f\"}")
                .accepted());
        return id;
    }
}
