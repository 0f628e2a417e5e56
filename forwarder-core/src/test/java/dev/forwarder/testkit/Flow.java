package dev.forwarder.testkit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.internal.kafka.KafkaMessages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What the forwarder's integration tests do around a forwarder: publish numbered records, wait for their
 * delivery, copy a spool directory, and read what names a message in Kafka.
 */
public final class Flow {

    private Flow() {}

    /** Publishes chat_inference records {@code from} to {@code to} (exclusive) of {@code run}, adding their ids. */
    public static void publish(Forwarder forwarder, UUID run, List<String> ids, int from, int to) {
        for (int i = from; i < to; i++) {
            String id = Records.id(run, i);
            ids.add(id);
            assertTrue(forwarder
                    .publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, id))
                    .accepted());
        }
    }

    /** Waits (at most 60 s) until this forwarder has delivered exactly {@code count} records. */
    public static void awaitDelivered(Forwarder forwarder, long count) {
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertEquals(
                        count,
                        forwarder.status().delivered(),
                        forwarder.status().toString()));
    }

    /** Copies a directory tree, as {@code cp -a} (a backup, a move to another disk). */
    public static void copyTree(Path from, Path to) {
        copyTree(from, to, relative -> false);
    }

    /** Copies a directory tree but the paths (relative to {@code from}) that {@code skip} names. */
    public static void copyTree(Path from, Path to, Predicate<Path> skip) {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path relative = from.relativize(p);
                if (skip.test(relative)) {
                    continue;
                }
                Path target = to.resolve(relative.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The spool's source id, as its file holds it. */
    public static UUID sourceId(Path spool) {
        try {
            return UUID.fromString(Files.readString(spool.resolve("source-id")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String header(ConsumerRecord<byte[], byte[]> message, String name) {
        return new String(message.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    /** The message's (source_id, spool_index), from its headers. */
    public static String identity(ConsumerRecord<byte[], byte[]> message) {
        return header(message, KafkaMessages.HEADER_SOURCE_ID) + "/"
                + header(message, KafkaMessages.HEADER_SPOOL_INDEX);
    }

    /** Every (source_id, spool_index) that names two different records (by key), described; none is empty. */
    public static List<String> identityCollisions(List<ConsumerRecord<byte[], byte[]>> messages) {
        Map<String, String> keyByIdentity = new HashMap<>();
        List<String> collisions = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> m : messages) {
            String key = new String(m.key(), StandardCharsets.UTF_8);
            String before = keyByIdentity.putIfAbsent(identity(m), key);
            if (before != null && !before.equals(key)) {
                collisions.add(identity(m) + ": " + before + " and " + key);
            }
        }
        return collisions;
    }
}
