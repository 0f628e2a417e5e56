package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.Golden;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The forwarder against a real broker: delivery, sync writes, the spool lock, and the accounting. */
@KafkaTest
class ForwarderIT {

    @Test
    void everyOfferedRecordArrivesOnceWithCountsAddingUp(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        ForwarderStatus status;
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 3000; i++) {
                String id = Records.id(run, i);
                PublishResult r = forwarder.publish(Records.typeOf(i), Records.json(Records.typeOf(i), id));
                assertEquals(PublishResult.Status.ACCEPTED, r.status(), r.detail());
                ids.add(id);
            }
            // Typed records go the same way.
            EventCodec codec = new EventCodec();
            for (DataType type : DataType.values()) {
                InferenceRecord golden = assertDoesNotThrowParse(codec, type);
                assertEquals(
                        PublishResult.Status.ACCEPTED, forwarder.publish(golden).status());
            }
            forwarder.close(); // drains
            status = forwarder.status();
        }
        Delivered delivered =
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 3003);
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)), "ids that never arrived");
        assertEquals(3003, delivered.messages(), "a clean run delivers each record exactly once");
        assertEquals(1001, delivered.count(DataType.MODEL_INFERENCE));
        assertEquals(3003, status.offered());
        assertEquals(3003, status.appended());
        assertEquals(0, status.droppedTotal());
        assertEquals(3003, status.delivered());
        assertEquals(0, status.backlog());
        assertEquals(ForwarderStatus.State.CLOSED, status.state());
    }

    private static InferenceRecord assertDoesNotThrowParse(EventCodec codec, DataType type) {
        try {
            return codec.parse(type, Golden.json(type));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"interval", "every_record"})
    void theSyncPoliciesDeliverToo(String sync, KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .with("gateway.observability.kafka.spool { sync = " + sync + ", sync_interval_ms = 50 }")
                .build();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 300; i++) {
                String id = Records.id(run, i);
                assertEquals(
                        PublishResult.Status.ACCEPTED,
                        forwarder
                                .publish(Records.typeOf(i), Records.json(Records.typeOf(i), id))
                                .status());
                ids.add(id);
            }
        }
        Delivered delivered =
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 300);
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
    }

    @Test
    void droppedRecordsAreCountedWithTheirReason(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        try (Forwarder forwarder = Forwarder.start(config)) {
            assertEquals(
                    PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                    forwarder.publish(DataType.CHAT_INFERENCE, "[1,2]").status());
            assertEquals(
                    PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                    forwarder.publish(DataType.CHAT_INFERENCE, (String) null).status());
            assertEquals(
                    PublishResult.Status.ACCEPTED,
                    forwarder.publish(DataType.CHAT_INFERENCE, " {} ").status());
            forwarder.close();
            assertEquals(
                    PublishResult.Status.DROPPED_CLOSED,
                    forwarder.publish(DataType.CHAT_INFERENCE, "{}").status());
            ForwarderStatus s = forwarder.status();
            assertEquals(4, s.offered());
            assertEquals(1, s.appended());
            assertEquals(2, s.dropped().get(PublishResult.Status.DROPPED_SERIALIZATION_ERROR));
            assertEquals(1, s.dropped().get(PublishResult.Status.DROPPED_CLOSED));
            assertEquals(s.offered(), s.appended() + s.droppedTotal());
        }
    }

    @Test
    void aSecondForwarderOnTheSameSpoolIsRefusedNamingTheOwner(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .build();
        try (Forwarder first = Forwarder.start(config)) {
            ForwarderException e = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
            assertTrue(
                    e.getMessage()
                            .contains("already being forwarded by process "
                                    + ProcessHandle.current().pid()),
                    e.getMessage());
        }
        // Released at close: the spool can be taken again.
        Forwarder.start(config).close();
    }

    @Test
    void disabledConfigurationDropsAndCounts(@TempDir Path dir) {
        ForwarderConfig config = ForwarderConfig.parse(
                "gateway.observability.enabled = false\n" + "gateway.observability.kafka.spool.dir = \"" + dir + "\"");
        try (Forwarder forwarder = Forwarder.start(config)) {
            assertEquals(
                    PublishResult.Status.DROPPED_DISABLED,
                    forwarder.publish(DataType.JSON_INFERENCE, "{}").status());
            assertEquals(1, forwarder.status().dropped().get(PublishResult.Status.DROPPED_DISABLED));
        }
    }
}
