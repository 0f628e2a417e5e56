package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void damagedRecordsAreQuarantinedAndEveryIntactRecordArrives(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spool = dir.resolve("spool");
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        // 1. Spool 300 records while Kafka is away.
        ForwarderConfig offline = ForwarderIT.config("127.0.0.1:" + closedPort, spool,
                "gateway.observability.kafka { startup.require_connection = false, spool.drain_timeout_ms = 100,"
                        + " spool.roll_cycle = test_secondly }");
        String prefix = offline.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        try (Forwarder forwarder = Forwarder.start(offline)) {
            for (int i = 0; i < 300; i++) {
                if (i == 150) {
                    Thread.sleep(1100); // records 150.. go to the next roll file (one a second here)
                }
                String id = Records.id(run, i);
                assertTrue(forwarder.publish(Records.typeOf(i), Records.json(Records.typeOf(i), id)).accepted());
                ids.add(id);
            }
        }
        List<Path> rollFiles;
        try (Stream<Path> files = Files.list(spool.resolve("queue"))) {
            rollFiles = files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
        assertEquals(2, rollFiles.size(), "records 0-149 and 150-299 in two roll files: " + rollFiles);
        // 2. Damage three records in place: a byte of each one's payload (found by its id) is flipped.
        List<String> damaged = List.of(ids.get(10), ids.get(200), ids.get(299));
        for (String id : damaged) {
            Path rollFile = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1), 16) < 150 ? rollFiles.get(0) : rollFiles.get(1);
            byte[] content = Files.readAllBytes(rollFile);
            try (RandomAccessFile file = new RandomAccessFile(rollFile.toFile(), "rw")) {
                int at = indexOf(content, ("\"id\":\"" + id).getBytes(StandardCharsets.UTF_8));
                assertTrue(at > 0, "record " + id + " found in " + rollFile);
                file.seek(at + 2);
                file.write('I'); // "id" becomes "Id": still JSON, but the checksum no longer matches
            }
        }
        // ... and cut the first roll file in the middle of record 100: records 100-149 are gone with it.
        byte[] first = Files.readAllBytes(rollFiles.get(0));
        int cut = indexOf(first, ("\"id\":\"" + ids.get(100)).getBytes(StandardCharsets.UTF_8));
        try (RandomAccessFile file = new RandomAccessFile(rollFiles.get(0).toFile(), "rw")) {
            file.setLength(cut + 10);
        }
        List<String> truncated = ids.subList(100, 150); // 100 torn (corrupt), 101-149 gone
        // 3. Start again with Kafka there.
        ForwarderConfig online = ForwarderIT.config(broker.bootstrapServers(), spool,
                "gateway.observability.kafka { topic_prefix = \"" + prefix + "\", spool.drain_timeout_ms = 60000 }");
        ForwarderStatus status;
        int intactCount = 300 - damaged.size() - truncated.size();
        assertTrue(!truncated.contains(damaged.get(0)));
        try (Forwarder forwarder = Forwarder.start(online)) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (forwarder.status().delivered() < intactCount && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(ForwarderStatus.State.FORWARDING, forwarder.status().state(), "still running");
            assertTrue(forwarder.publish(DataType.CHAT_INFERENCE,
                    Records.json(DataType.CHAT_INFERENCE, Records.id(run, 1000))).accepted(), "and still accepting");
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
            List<Path> records = quarantined.filter(p -> p.toString().endsWith(".record")).toList();
            assertEquals(4, records.size(), "one quarantine copy per damaged record");
            for (Path record : records) {
                String reason = Files.readString(Path.of(record.toString().replace(".record", ".reason")));
                assertTrue(reason.contains("checksum mismatch") || reason.contains("inconsistent header"), reason);
            }
        }
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
