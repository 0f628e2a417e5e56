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
import java.util.List;
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
        assertTrue(bytes(spool) < run.peakBytes(), "disk use dropped: " + bytes(spool) + " < " + run.peakBytes());
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

    private record Run(List<String> ids, long peakBytes) {}

    private static Run publishOverSeconds(ForwarderConfig config, int seconds) throws Exception {
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        long peak = 0;
        long peakBytes = 0;
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
                peak = Math.max(peak, rollFiles(config.kafka().spool().dir()).size());
                peakBytes = Math.max(peakBytes, bytes(config.kafka().spool().dir()));
            }
            forwarder.close();
            assertEquals(0, forwarder.status().backlog());
        }
        assertTrue(peak >= 2, "the test needs records in several roll files; saw at most " + peak);
        return new Run(ids, peakBytes);
    }

    private static long bytes(Path spool) throws IOException {
        long total = 0;
        for (Path file : rollFiles(spool)) {
            try {
                total += Files.size(file);
            } catch (NoSuchFileException e) {
                // deleted by the forwarder's retention between the listing and here: no longer on disk
            }
        }
        return total;
    }

    private static List<Path> rollFiles(Path spool) throws IOException {
        try (Stream<Path> files = Files.list(spool.resolve("queue"))) {
            return files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
    }
}
