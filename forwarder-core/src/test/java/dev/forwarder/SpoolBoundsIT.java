package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.LiveFiles;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool's bounds on real file systems: a full tmpfs (mounted by the test) and spool.max_bytes. Publish
 * never throws, the accounting identity holds exactly, and what was appended arrives once there is room.
 */
@KafkaTest
class SpoolBoundsIT {

    @Test
    void aFullDiskRefusesRecordsWithoutAFaultAndEverythingAppendedArrives(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path mount = dir.resolve("tmpfs");
        Files.createDirectories(mount);
        Process mounting = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount.toString())
                .redirectErrorStream(true)
                .start();
        String why = new String(mounting.getInputStream().readAllBytes()).trim();
        if (mounting.waitFor() != 0) {
            System.out.println("SKIPPED: cannot mount a tmpfs for the disk-full test: " + why);
            Assumptions.abort("cannot mount a tmpfs (needs root): " + why);
        }
        // No thread of the forwarder may die of the full disk (a mapped page that cannot be backed faults).
        List<String> uncaught = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
        try {
            // Ballast leaves little room, so that the disk, not max_bytes, is what fills up.
            Path ballast = mount.resolve("ballast");
            Files.write(ballast, new byte[24 << 20]);
            ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), mount.resolve("spool"))
                    .with("gateway.observability.kafka.spool.drain_timeout_ms = 60000")
                    .build();
            UUID run = UUID.randomUUID();
            List<String> appended = new ArrayList<>();
            int seq = 0;
            long dropped = 0;
            ForwarderStatus status;
            try (Forwarder forwarder = Forwarder.start(config)) {
                while (dropped < 200 && seq < 200_000) {
                    String id = Records.id(run, seq);
                    PublishResult r = forwarder.publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), id));
                    seq++;
                    if (r.accepted()) {
                        appended.add(id);
                    } else {
                        assertEquals(PublishResult.Status.DROPPED_SPOOL_FULL, r.status(), r.detail());
                        dropped++;
                    }
                }
                assertEquals(200, dropped, "the full disk refused records");
                ForwarderStatus full = forwarder.status();
                assertEquals(full.offered(), full.appended() + full.droppedTotal(), "offered = appended + dropped");
                assertEquals(appended.size(), full.appended());

                Files.delete(ballast); // room again: appending resumes
                Thread.sleep(300);
                int before = appended.size();
                for (int i = 0; i < 1000; i++, seq++) {
                    String id = Records.id(run, seq);
                    if (forwarder
                            .publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), id))
                            .accepted()) {
                        appended.add(id);
                    }
                }
                assertEquals(before + 1000, appended.size(), "appending resumed once space was freed");
                forwarder.close();
                status = forwarder.status();
            }
            System.out.println("disk full: " + status.appended() + " appended, " + status.droppedTotal()
                    + " dropped as spool full, " + status.delivered() + " delivered");
            assertEquals(status.offered(), status.appended() + status.droppedTotal());
            assertEquals(
                    status.appended(),
                    status.delivered() + status.deadLettered() + status.corrupt() + status.backlog());
            Delivered delivered =
                    Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), appended.size());
            assertEquals(List.of(), List.copyOf(delivered.missing(appended)), "appended records lost");
            assertEquals(List.of(), uncaught, "threads that died of an uncaught exception");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previousHandler);
            new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor();
        }
    }

    @Test
    void maxBytesIsNeverExceededAndDropNewestAndBlockCountAsTheySay(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        long maxBytes = 48L << 20;
        Path spool = dir.resolve("spool");
        // Kafka is away (nothing listens there), so nothing is forwarded or deleted: the spool only grows.
        int closedPort = Ports.unused();
        ForwarderConfig config = TestConfig.forBroker("127.0.0.1:" + closedPort, spool)
                .with("gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 200,"
                        + " spool.max_bytes = 48MiB }")
                .build();
        UUID run = UUID.randomUUID();
        long largest = 0;
        String atLargest = "";
        try (Forwarder forwarder = Forwarder.start(config)) {
            int seq = 0;
            long dropped = 0;
            while (dropped < 100 && seq < 500_000) {
                PublishResult r =
                        forwarder.publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), Records.id(run, seq)));
                seq++;
                if (r.dropped()) {
                    assertEquals(PublishResult.Status.DROPPED_SPOOL_FULL, r.status());
                    dropped++;
                }
                if (seq % 1000 == 0 && bytes(spool) > largest) {
                    largest = bytes(spool);
                    atLargest = listing(spool);
                }
            }
            if (bytes(spool) > largest) {
                largest = bytes(spool);
                atLargest = listing(spool);
            }
            System.out.println("at the peak: " + atLargest);
            ForwarderStatus s = forwarder.status();
            System.out.println("max_bytes " + maxBytes + ": spool files peaked at " + largest + " bytes; "
                    + s.appended() + " appended, " + s.droppedTotal() + " dropped");
            assertTrue(largest <= maxBytes, "spool files reached " + largest + " bytes, over max_bytes " + maxBytes);
            assertEquals(100, s.dropped().get(PublishResult.Status.DROPPED_SPOOL_FULL));
            assertEquals(s.offered(), s.appended() + s.droppedTotal());
            assertEquals(s.appended(), s.backlog(), "everything appended waits in the spool");
            assertEquals(0, s.lost());
        }

        // on_full = block: publish waits up to block_timeout_ms for room, then drops.
        ForwarderConfig blocking = TestConfig.forBroker("127.0.0.1:" + closedPort, spool)
                .with("gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 200,"
                        + " spool.max_bytes = 48MiB, spool.on_full = block, spool.block_timeout_ms = 300 }")
                .build();
        try (Forwarder forwarder = Forwarder.start(blocking)) {
            // Closing may have trimmed the roll file a little: fill what room there is, up to the first refusal.
            PublishResult r = null;
            long waitedMs = 0;
            for (int seq = 1_000_000; seq < 1_100_000; seq++) {
                long t0 = System.nanoTime();
                r = forwarder.publish(
                        DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, seq)));
                waitedMs = (System.nanoTime() - t0) / 1_000_000;
                if (r.dropped()) {
                    break;
                }
            }
            assertEquals(PublishResult.Status.DROPPED_SPOOL_FULL, r.status());
            assertTrue(waitedMs >= 250, "block waits for room before it drops; waited " + waitedMs + " ms");
            assertEquals(1, forwarder.status().dropped().get(PublishResult.Status.DROPPED_SPOOL_FULL));
            assertTrue(bytes(spool) <= maxBytes);
        }
    }

    @Test
    void dropOldestDiscardsTheOldestRollFilesCountedAsLost(@TempDir Path dir) throws Exception {
        long maxBytes = 48L << 20;
        Path spool = dir.resolve("spool");
        int closedPort = Ports.unused();
        // Kafka away, one roll file a second: the oldest seconds must make room for the newest.
        ForwarderConfig config = TestConfig.forBroker("127.0.0.1:" + closedPort, spool)
                .with("gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 200,"
                        + " spool { max_bytes = 48MiB, on_full = drop_oldest } }")
                .build();
        UUID run = UUID.randomUUID();
        long largest = 0;
        ForwarderStatus s;
        try (Forwarder forwarder = Forwarder.start(config, true, RollPeriod.SECONDLY)) {
            long end = System.currentTimeMillis() + 7_000;
            int seq = 0;
            while (System.currentTimeMillis() < end) {
                for (int i = 0; i < 200; i++, seq++) {
                    forwarder.publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), Records.id(run, seq)));
                }
                largest = Math.max(largest, bytes(spool));
                Thread.sleep(5);
            }
            s = forwarder.status();
        }
        System.out.println("drop_oldest: " + s.offered() + " offered, " + s.appended() + " appended, " + s.lost()
                + " lost with the oldest roll files, " + s.droppedTotal() + " dropped new, " + s.backlog()
                + " in the spool; files peaked at " + largest + " bytes");
        assertTrue(s.lost() > 0, "the oldest records made room");
        assertTrue(largest <= maxBytes, "spool files reached " + largest + " bytes, over max_bytes " + maxBytes);
        assertEquals(s.offered(), s.appended() + s.droppedTotal());
        assertEquals(
                s.appended(),
                s.delivered() + s.deadLettered() + s.corrupt() + s.lost() + s.backlog(),
                "appended = delivered + dead letters + corrupt + lost + backlog");
        assertTrue(s.droppedTotal() < s.lost(), "mostly the oldest went, not the newest");
    }

    private static String listing(Path dir) throws IOException {
        StringBuilder out = new StringBuilder("[");
        LiveFiles.under(dir).forEach((p, attrs) -> {
            if (attrs.isRegularFile()) {
                out.append(out.length() > 1 ? ", " : "")
                        .append(dir.relativize(p))
                        .append('=')
                        .append(attrs.size());
            }
        });
        return out.append(']').toString();
    }

    private static long bytes(Path dir) throws IOException {
        return LiveFiles.bytes(dir);
    }
}
