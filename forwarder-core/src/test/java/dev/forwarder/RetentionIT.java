package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forwarded roll files are deleted once the persisted checkpoint covers them (after the retention), and the
 * spool's disk use drops accordingly; with a retention they stay. One roll file a second here, so that the
 * test sees several.
 */
@KafkaTest
class RetentionIT {

    @Test
    void forwardedRollFilesAreDeletedAndDiskUseDrops(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spool = dir.resolve("spool");
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka.spool { checkpoint_interval_ms = 200 }")
                .build();
        Run run = publishOverSeconds(config, 4);
        // After close: the checkpoint is forced, then files behind it are deleted.
        List<Path> left = rollFiles(spool);
        assertTrue(left.size() <= 1, "only the checkpoint's own roll file may stay, found " + left);
        assertTrue(
                bytes(spool) < run.writtenBytes(),
                "disk use dropped: " + bytes(spool) + " < " + run.writtenBytes() + " written");
        assertEquals(
                run.ids().size(),
                Delivered.read(
                                broker.clientProperties(),
                                config.kafka().topicPrefix(),
                                run.ids().size())
                        .distinct());
    }

    @Test
    void withARetentionForwardedFilesStay(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spool = dir.resolve("spool");
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka.spool { checkpoint_interval_ms = 200," + " retain_forwarded = 1h }")
                .build();
        publishOverSeconds(config, 3);
        assertTrue(rollFiles(spool).size() >= 3, "files kept for the retention: " + rollFiles(spool));
    }

    /** The ids published, and the bytes of every roll file the run wrote (its disk use had none been deleted). */
    private record Run(List<String> ids, long writtenBytes) {}

    private static Run publishOverSeconds(ForwarderConfig config, int seconds) throws Exception {
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        // Roll files seen over the run, by name, each with the largest size seen: a forwarded one can be deleted
        // within a checkpoint interval of the roll, before a look at how many there are at once (the test used
        // to count them at once, and so saw one at a time now and then).
        Map<Path, Long> seen = new HashMap<>();
        try (Forwarder forwarder = Forwarder.start(config, true, RollPeriod.SECONDLY)) {
            long end = System.currentTimeMillis() + seconds * 1000L + 200;
            int seq = 0;
            while (System.currentTimeMillis() < end) {
                for (int i = 0; i < 20; i++, seq++) {
                    String id = Records.id(run, seq);
                    assertTrue(forwarder
                            .publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), id))
                            .accepted());
                    ids.add(id);
                }
                Thread.sleep(50);
                for (Path file : rollFiles(config.kafka().spool().dir())) {
                    seen.merge(file, size(file), Math::max);
                }
            }
            forwarder.close();
            assertEquals(0, forwarder.status().backlog());
        }
        assertTrue(seen.size() >= 2, "the test needs records in several roll files; saw " + seen.keySet());
        return new Run(ids, seen.values().stream().mapToLong(Long::longValue).sum());
    }

    private static long bytes(Path spool) throws IOException {
        long total = 0;
        for (Path file : rollFiles(spool)) {
            total += size(file);
        }
        return total;
    }

    /** A roll file's size; 0 if the forwarder's retention deleted it since it was listed (no longer on disk). */
    private static long size(Path file) throws IOException {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private static List<Path> rollFiles(Path spool) throws IOException {
        try (Stream<Path> files = Files.list(spool.resolve("queue"))) {
            return files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
    }
}
