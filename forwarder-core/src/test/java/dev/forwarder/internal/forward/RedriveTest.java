package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.RedriveResult;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redrive rewrites the dead-letter spool with what it keeps, so it must read every dead letter first: a
 * dead-letter roll file cut short (no end-of-file marker) while a later one exists must not make it stop
 * there and delete the later dead letters unread.
 */
class RedriveTest {

    @TempDir
    Path dir;

    @Test
    void deadLettersAfterATruncatedRollFileAreKept() throws Exception {
        Path spoolDir = dir.resolve("spool");
        Files.createDirectories(spoolDir);
        long[] nowMs = {System.currentTimeMillis()};
        Path deadLetterDir = spoolDir.resolve(Spool.DEAD_LETTER_DIR);
        try (Spool deadLetters =
                new Spool(deadLetterDir, Spool.Settings.defaults().wallClock(() -> nowMs[0]))) {
            // An hour's file: a0 (the one to redrive, a JSON inference) and a1..a4; then the next hour's: b0..b4.
            append(deadLetters, "a0", DataType.JSON_INFERENCE);
            for (int i = 1; i < 5; i++) {
                append(deadLetters, "a" + i, DataType.MODEL_INFERENCE);
            }
            nowMs[0] += TimeUnit.HOURS.toMillis(1);
            for (int i = 0; i < 5; i++) {
                append(deadLetters, "b" + i, DataType.MODEL_INFERENCE);
            }
        }
        // The first file is cut in the middle of a4: its end-of-file marker is gone, b0..b4 follow in another.
        List<Path> files;
        try (Stream<Path> list = Files.list(deadLetterDir.resolve("queue"))) {
            files = list.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
        assertEquals(2, files.size());
        byte[] first = Files.readAllBytes(files.get(0));
        int a4 = new String(first, StandardCharsets.ISO_8859_1).indexOf("\"id\":\"a4\"");
        try (RandomAccessFile file = new RandomAccessFile(files.get(0).toFile(), "rw")) {
            file.setLength(a4 + 4);
        }

        ForwarderConfig.Kafka kafka = ForwarderConfig.parse(
                        "gateway.observability.kafka.spool.dir = \"" + spoolDir + "\"")
                .kafka();
        RedriveResult result = Redrive.run(
                kafka,
                null,
                DataType.JSON_INFERENCE,
                () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()));

        assertEquals(1, result.delivered(), "a0 was sent again and removed");
        List<String> left = new ArrayList<>();
        try (Spool deadLetters = new Spool(deadLetterDir);
                SpoolReader reader = new SpoolReader(deadLetters, (index, reason) -> {})) {
            reader.seekAfter(Checkpoint.NONE);
            SpoolRecord.Entry e;
            while ((e = reader.next(System.nanoTime())) != null) {
                left.add(e.key());
            }
        }
        assertEquals(List.of("a1", "a2", "a3", "b0", "b1", "b2", "b3", "b4"), left, "the torn a4 aside, none lost");
        assertEquals(8, result.remaining());
        assertTrue(result.selected() == 1);
    }

    private static void append(Spool spool, String id, DataType type) {
        byte[] json = ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8);
        spool.append(
                type,
                0,
                id.getBytes(StandardCharsets.UTF_8),
                json,
                DeadLetters.note(UUID.randomUUID(), 7, "RecordTooLargeException: too large")
                        .getBytes(StandardCharsets.UTF_8));
    }
}
