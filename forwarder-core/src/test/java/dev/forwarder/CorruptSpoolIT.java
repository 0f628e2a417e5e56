package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * While the forwarder is stopped, bytes inside the roll files are overwritten and the first roll file is
 * truncated in the middle of a record. At the next start the damaged records are skipped, copied to the
 * quarantine and counted exactly, the reader moves past the truncated file, every intact record arrives,
 * and the forwarder keeps running.
 */
@KafkaTest
class CorruptSpoolIT {

    @Test
    void damagedRecordsAreQuarantinedAndEveryIntactRecordArrives(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path spool = dir.resolve("spool");
        int closedPort = Ports.unused();
        // 1. Spool 300 records while Kafka is away.
        ForwarderConfig offline = TestConfig.forBroker("127.0.0.1:" + closedPort, spool)
                .with(
                        "gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 100 }")
                .build();
        String prefix = offline.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try (Forwarder forwarder = Forwarder.start(offline, true, RollPeriod.SECONDLY)) {
            for (int i = 0; i < 300; i++) {
                if (i == 150) {
                    Thread.sleep(1100); // records 150.. go to the next roll file (one a second here)
                }
                String id = Records.id(run, i);
                assertTrue(forwarder
                        .publish(Records.typeOf(i), Records.json(Records.typeOf(i), id))
                        .accepted());
                ids.add(id);
            }
        }
        List<Path> rollFiles;
        try (Stream<Path> files = Files.list(spool.resolve("queue"))) {
            rollFiles =
                    files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
        List<byte[]> contents = new ArrayList<>();
        for (Path file : rollFiles) {
            contents.add(Files.readAllBytes(file));
        }
        // 2. Damage three records in place: a byte of each one's payload (found by its id) is flipped.
        List<String> damaged = List.of(ids.get(10), ids.get(200), ids.get(299));
        for (String id : damaged) {
            int f = fileOf(contents, id);
            try (RandomAccessFile file = new RandomAccessFile(rollFiles.get(f).toFile(), "rw")) {
                file.seek(indexOf(contents.get(f), marker(id)) + 2);
                file.write('I'); // "id" becomes "Id": still JSON, but the checksum no longer matches
            }
        }
        // ... and cut the roll file holding record 100 in the middle of it: the rest of that file is gone.
        int cutFile = fileOf(contents, ids.get(100));
        assertTrue(cutFile < rollFiles.size() - 1, "a later roll file exists (records 150.. came a second later)");
        try (RandomAccessFile file = new RandomAccessFile(rollFiles.get(cutFile).toFile(), "rw")) {
            file.setLength(indexOf(contents.get(cutFile), marker(ids.get(100))) + 10);
        }
        List<String> truncated = new ArrayList<>();
        for (int i = 100; i < 300; i++) {
            if (fileOf(contents, ids.get(i)) == cutFile) {
                truncated.add(ids.get(i)); // 100 torn (corrupt), the rest of its file gone
            }
        }
        // 3. Start again with Kafka there.
        ForwarderConfig online = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka { topic_prefix = \"" + prefix
                        + "\", spool.drain_timeout_ms = 60000 }")
                .build();
        ForwarderStatus status;
        int intactCount = 300 - damaged.size() - truncated.size();
        assertTrue(!truncated.contains(damaged.get(0)));
        try (Forwarder forwarder = Forwarder.start(online)) {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> forwarder.status().delivered() >= intactCount);
            assertEquals(ForwarderStatus.State.FORWARDING, forwarder.status().state(), "still running");
            assertTrue(
                    forwarder
                            .publish(
                                    DataType.CHAT_INFERENCE,
                                    Records.json(DataType.CHAT_INFERENCE, Records.id(run, 1000)))
                            .accepted(),
                    "and still accepting");
            forwarder.close();
            status = forwarder.status();
        }
        // The three overwritten records, and record 100, cut in the middle: 4, exactly.
        assertEquals(4, status.corrupt(), status.toString());
        assertEquals(intactCount + 1, status.delivered(), "the intact records and the one published after the restart");
        List<String> intact = new ArrayList<>(ids);
        intact.removeAll(damaged);
        intact.removeAll(truncated);
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, intactCount + 1);
        assertEquals(List.of(), List.copyOf(delivered.missing(intact)), "intact records lost");
        for (String id : damaged) {
            assertEquals(0, delivered.count(id), "a damaged record was sent");
        }
        try (Stream<Path> quarantined = Files.list(spool.resolve("quarantine"))) {
            List<Path> records =
                    quarantined.filter(p -> p.toString().endsWith(".record")).toList();
            assertEquals(4, records.size(), "one quarantine copy per damaged record");
            for (Path record : records) {
                String reason = Files.readString(Path.of(record.toString().replace(".record", ".reason")));
                assertTrue(reason.contains("checksum mismatch") || reason.contains("inconsistent header"), reason);
            }
        }
    }

    private static byte[] marker(String id) {
        return ("\"id\":\"" + id).getBytes(StandardCharsets.UTF_8);
    }

    private static int fileOf(List<byte[]> contents, String id) {
        for (int f = 0; f < contents.size(); f++) {
            if (indexOf(contents.get(f), marker(id)) >= 0) {
                return f;
            }
        }
        throw new AssertionError("record " + id + " not found in any roll file");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
