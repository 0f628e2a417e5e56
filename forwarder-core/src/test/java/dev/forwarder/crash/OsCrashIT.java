package dev.forwarder.crash;

import static dev.forwarder.testkit.Flow.awaitDelivered;
import static dev.forwarder.testkit.Flow.copyTree;
import static dev.forwarder.testkit.Flow.header;
import static dev.forwarder.testkit.Flow.publish;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.testkit.Flow;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An OS crash (power loss) after records reached Kafka but before the page cache reached the disk: the spool
 * comes back as it was at its last force, without its last records, on a machine with a new boot id. The
 * spool as it was on the disk is a copy taken when it was last closed; the boot is a new boot id. The records
 * appended after the restart must not take the indexes of those Kafka already has: a consumer that dedupes
 * on (source_id, spool_index) would drop them.
 */
@KafkaTest
class OsCrashIT {

    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void recordsAppendedAfterAnOsCrashTakeNoIndexKafkaAlreadyHas(String delivery, KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path spool = dir.resolve("spool");
        Path onDisk = dir.resolve("on-disk");
        String prefix = "oscrash" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, spool)
                .prefix(prefix)
                .with("gateway.observability.kafka { delivery = " + delivery + ", batch_size = 10 }")
                .build();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();

        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, ids, 0, 50);
            awaitDelivered(forwarder, 50);
        }
        copyTree(spool, onDisk); // what the disk held at the crash: the page cache of what follows was lost
        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, ids, 50, 100);
            awaitDelivered(forwarder, 50); // in Kafka, then the power went
        }
        deleteContents(spool); // the same directory, as after a crash (a new one would be a copy, CopiedSpoolIT)
        copyTree(onDisk, spool);
        Files.writeString(spool.resolve("boot-id"), UUID.randomUUID() + "\n"); // the boot before this one

        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, ids, 100, 150); // at once: the request path does not wait for the forwarder
            awaitDelivered(forwarder, 50);
        }

        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        if (delivery.equals("exactly_once")) {
            props.put("isolation.level", "read_committed");
        }
        List<ConsumerRecord<byte[], byte[]>> messages =
                TopicReader.readAll(props, DataType.CHAT_INFERENCE.topic(prefix), 150);
        Set<String> arrived = new HashSet<>();
        messages.forEach(m -> arrived.add(new String(m.key(), StandardCharsets.UTF_8)));
        List<String> collisions = Flow.identityCollisions(messages);
        assertEquals(List.of(), collisions, "two records under one (source_id, spool_index)");
        assertEquals(
                1,
                messages.stream()
                        .map(m -> header(m, KafkaMessages.HEADER_SOURCE_ID))
                        .distinct()
                        .count(),
                "one source id: the spool's indexes moved on, its identity stayed");
        Set<String> missing = new HashSet<>(ids);
        missing.removeAll(arrived);
        assertEquals(Set.of(), missing, "every record arrived");
        if (delivery.equals("exactly_once")) {
            assertEquals(150, messages.size(), "each once");
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
