package dev.forwarder;

import static dev.forwarder.testkit.Flow.awaitDelivered;
import static dev.forwarder.testkit.Flow.copyTree;
import static dev.forwarder.testkit.Flow.header;
import static dev.forwarder.testkit.Flow.publish;
import static dev.forwarder.testkit.Flow.sourceId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.testkit.Flow;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A spool copied to another directory (a backup restored while the original lives on, cp -a, rsync) and
 * forwarded beside its original: the copy takes a source id of its own, so the two share no record
 * identity, neither fences the other, and with exactly_once the records both hold are not sent again.
 */
@KafkaTest
class CopiedSpoolIT {

    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void aCopyForwardsUnderASourceIdOfItsOwnBesideTheOriginal(String delivery, KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "copy" + UUID.randomUUID().toString().substring(0, 8);
        Path original = dir.resolve("spool");
        Path copy = dir.resolve("copy");
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try (Forwarder first = Forwarder.start(config(broker, original, prefix, delivery))) {
            publish(first, run, ids, 0, 10);
            awaitDelivered(first, 10);
        }
        UUID originalSource = sourceId(original);
        copyTree(original, copy);

        try (Forwarder older = Forwarder.start(config(broker, original, prefix, delivery));
                Forwarder newer = Forwarder.start(config(broker, copy, prefix, delivery))) {
            publish(older, run, ids, 10, 20);
            publish(newer, run, ids, 20, 30);
            awaitDelivered(older, 10);
            awaitDelivered(newer, 10);
            assertEquals(
                    ForwarderStatus.State.FORWARDING,
                    older.status().state(),
                    older.status().toString());
            assertEquals(
                    ForwarderStatus.State.FORWARDING,
                    newer.status().state(),
                    newer.status().toString());
        }
        assertEquals(originalSource, sourceId(original), "the original keeps its id");
        assertNotEquals(originalSource, sourceId(copy), "the copy has one of its own");

        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        if (delivery.equals("exactly_once")) {
            props.put("isolation.level", "read_committed");
        }
        List<ConsumerRecord<byte[], byte[]>> messages =
                TopicReader.readAll(props, DataType.CHAT_INFERENCE.topic(prefix), 30);
        Set<String> arrived = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> m : messages) {
            String id = new String(m.key(), StandardCharsets.UTF_8);
            arrived.add(id);
            if (ids.indexOf(id) >= 20) {
                assertEquals(sourceId(copy).toString(), header(m, KafkaMessages.HEADER_SOURCE_ID), "the copy's id");
            }
        }
        List<String> collisions = Flow.identityCollisions(messages);
        assertEquals(List.of(), collisions, "two records under one (source_id, spool_index)");
        Set<String> missing = new HashSet<>(ids);
        missing.removeAll(arrived);
        assertEquals(Set.of(), missing);
        if (delivery.equals("exactly_once")) {
            assertEquals(30, messages.size(), "each once: the copy did not send the ten both held again");
        }
    }

    private static ForwarderConfig config(KafkaBroker broker, Path spool, String prefix, String delivery) {
        return TestConfig.forBroker(broker, spool)
                .prefix(prefix)
                .with("gateway.observability.kafka { delivery = " + delivery + ", batch_size = 5 }")
                .build();
    }
}
