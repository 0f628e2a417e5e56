package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.ClickHouse;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multimodal model inferences carry images in {@code raw_request}, megabytes each. The forwarder learns at
 * start what the topics take and refuses, when it is offered, a record that could never be delivered
 * ({@code DROPPED_TOO_LARGE}, naming the limit), instead of accepting it and dead-lettering it later; where
 * the topics take large messages, the producer is sized for them and the record is delivered and loads.
 */
@KafkaTest
class LargeRecordsIT {

    private static final int FOUR_MB = 4 << 20;

    @Test
    void aFourMegabyteRecordIsRefusedAtPublishUnderKafkasDefaults(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        try (Forwarder forwarder = Forwarder.start(config)) {
            int limit = forwarder.maxRecordBytes(DataType.MODEL_INFERENCE);
            assertEquals(1_048_588 - 512, limit, "the broker's message.max.bytes less the framing");
            PublishResult big = forwarder.publish(DataType.MODEL_INFERENCE, modelInference(UUID.randomUUID(), FOUR_MB));
            assertEquals(PublishResult.Status.DROPPED_TOO_LARGE, big.status(), big.toString());
            assertTrue(
                    big.detail().contains("max.message.bytes is 1048588")
                            && big.detail().contains(String.valueOf(limit)),
                    big.detail());
            // Just under the limit: accepted and delivered.
            UUID fits = UUID.randomUUID();
            byte[] justUnder = modelInference(fits, limit - fits.toString().length() - 200);
            assertTrue(justUnder.length + 36 <= limit);
            PublishResult accepted = forwarder.publish(DataType.MODEL_INFERENCE, justUnder);
            assertTrue(accepted.accepted(), accepted.toString());
            forwarder.close();
            ForwarderStatus status = forwarder.status();
            assertEquals(1, status.delivered(), status.toString());
            assertEquals(0, status.deadLettered(), status.toString());
            assertEquals(1L, status.dropped().get(PublishResult.Status.DROPPED_TOO_LARGE), status.toString());
        }
    }

    @Test
    void topicsThatTakeSixteenMegabytesGetAFourMegabyteRecordDeliveredAndLoaded(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        try (Admin admin = Admin.create(broker.clientProperties())) {
            List<NewTopic> topics = new ArrayList<>();
            for (DataType type : DataType.values()) {
                topics.add(new NewTopic(config.kafka().topic(type), 1, (short) 1)
                        .configs(Map.of("max.message.bytes", String.valueOf(16 << 20))));
            }
            admin.createTopics(topics).all().get();
        }
        UUID id = UUID.fromString("0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11");
        byte[] json = modelInference(id, FOUR_MB);
        try (Forwarder forwarder = Forwarder.start(config)) {
            assertEquals((16 << 20) - 512, forwarder.maxRecordBytes(DataType.MODEL_INFERENCE));
            PublishResult result = forwarder.publish(DataType.MODEL_INFERENCE, json);
            assertEquals(PublishResult.Status.ACCEPTED, result.status(), result.toString());
            forwarder.close();
            assertEquals(1, forwarder.status().delivered(), forwarder.status().toString());
        }
        List<ConsumerRecord<byte[], byte[]>> arrived =
                TopicReader.readAll(broker.clientProperties(), config.kafka().topic(DataType.MODEL_INFERENCE), 1);
        assertEquals(1, arrived.size());
        assertArrayEquals(json, arrived.get(0).value(), "the 4 MB record arrived as sent");
        try (ClickHouse clickHouse = ClickHouse.start(dir.resolve("clickhouse"))) {
            clickHouse.createTensorZeroTables();
            assertEquals(
                    Optional.empty(),
                    Forwarder.validate(DataType.MODEL_INFERENCE, arrived.get(0).value()));
            assertEquals(
                    Optional.empty(),
                    clickHouse.insertAsGateway(
                            "ModelInference", List.of(arrived.get(0).value())));
            assertEquals(
                    1, clickHouse.number("SELECT count() FROM ModelInference WHERE length(raw_request) > 4000000"));
        }
    }

    /** A model inference whose {@code raw_request} holds a base64 image, about {@code bytes} long in all. */
    private static byte[] modelInference(UUID id, int bytes) {
        String head = "{\"id\":\"" + id + "\",\"inference_id\":\"" + id + "\",\"raw_request\":\"{\\\"image\\\":\\\"";
        String tail = "\\\"}\",\"raw_response\":\"{}\",\"model_name\":\"gpt-4o\",\"model_provider_name\":\"openai\"}";
        int base64Chars = Math.max(4, (bytes - head.length() - tail.length()) / 4 * 4);
        byte[] image = new byte[base64Chars / 4 * 3];
        new Random(11).nextBytes(image);
        return (head + Base64.getEncoder().encodeToString(image) + tail).getBytes(StandardCharsets.UTF_8);
    }
}
