package dev.forwarder.internal.spool;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The roll file and cycle mark of the next cycle made ahead of the clock, on a real file system: Chronicle
 * takes the pre-created file at the cycle's first append, the records read back in order, and until then the
 * queue is as it was (no empty roll file, its last index unchanged).
 */
class RollAheadTest {

    private static final long HOUR = TimeUnit.HOURS.toMillis(1);
    private static final long START = 1_764_460_800_000L; // an hour's start

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(START);

    private Spool open() throws Exception {
        return new Spool(dir.resolve("spool"), Spool.Settings.defaults().wallClock(clock::get));
    }

    private Path queueDir() {
        return dir.resolve("spool").resolve("queue");
    }

    private static long append(Spool spool, String text) {
        return spool.append(DataType.CHAT_INFERENCE, 0, null, text.getBytes(StandardCharsets.UTF_8), null);
    }

    private List<String> files(String suffix) throws Exception {
        return files(suffix, false);
    }

    private List<String> files(String part, boolean anywhere) throws Exception {
        try (var all = Files.list(queueDir())) {
            return all.map(p -> p.getFileName().toString())
                    .filter(n -> anywhere ? n.contains(part) : n.endsWith(part))
                    .sorted()
                    .toList();
        }
    }

    private long cycleMark() throws Exception {
        try (SharedCounter mark = SharedCounter.open(dir.resolve("spool").resolve("cycle-mark"))) {
            return mark.get();
        }
    }

    @Test
    void theNextCyclesFileIsMadeAheadAndTakenByTheCyclesFirstAppend() throws Exception {
        try (Spool spool = open()) {
            long first = append(spool, "first");
            String firstFile = files(".cq4").get(0);

            clock.set(START + HOUR - TimeUnit.MINUTES.toMillis(5)); // not near the roll yet: nothing made
            spool.rollAhead(Long.MAX_VALUE);
            assertEquals(List.of(), files(".precreated"));

            clock.set(START + HOUR - TimeUnit.SECONDS.toMillis(30));
            spool.rollAhead(Long.MAX_VALUE);
            assertEquals(1, files(".precreated").size(), "the next cycle's file is made within the minute before");
            Path precreated = queueDir().resolve(files(".precreated").get(0));
            byte[] bytes = Files.readAllBytes(precreated);
            assertEquals(RollAhead.ZEROS, bytes.length);
            assertArrayEquals(new byte[RollAhead.ZEROS], bytes, "a pre-created file is zeros");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(precreated)));
            long nextCycle = spool.currentCycle() + 1;
            assertTrue(cycleMark() >= nextCycle + 1, "the mark is above the next cycle before it starts");
            // Until the cycle's first append, the queue is what it was.
            assertEquals(List.of(firstFile), files(".cq4"));
            assertEquals(first, spool.lastIndex());
            assertEquals(List.of(), files(".precreating", true));

            clock.set(START + HOUR + 1);
            long second = append(spool, "second");
            assertEquals(List.of(), files(".precreated"), "Chronicle took the pre-created file");
            assertEquals(2, files(".cq4").size());
            assertEquals(nextCycle, spool.queue().rollCycle().toCycle(second));
            assertEquals(second, spool.lastIndex());
            assertEquals(List.of("first", "second"), readAll(spool));
            File taken = RollFiles.fileFor(spool.queue(), (int) nextCycle);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(taken.toPath())));
        }
        try (Spool reopened = open()) {
            assertEquals(List.of("first", "second"), readAll(reopened), "the records read back after a reopen");
        }
    }

    @Test
    void aFileTheClockPassedByIsDeletedAndTheQueueNeverSeesIt() throws Exception {
        try (Spool spool = open()) {
            long first = append(spool, "first");
            clock.set(START + HOUR - 1000);
            spool.rollAhead(Long.MAX_VALUE);
            String passedBy = files(".precreated").get(0);
            Files.write(queueDir().resolve("20000101-00F.precreating.1.2"), new byte[10]); // a crash's leftover

            clock.set(START + 3 * HOUR + 5); // two idle hours, no append
            spool.rollAhead(Long.MAX_VALUE);
            List<String> left = files(".precreated");
            assertFalse(left.contains(passedBy), "the file of a cycle the clock passed is deleted: " + left);
            assertEquals(1, left.size(), "the current cycle, which has no roll file yet, has one made: " + left);
            assertEquals(List.of(), files(".precreating", true));
            assertEquals(first, spool.lastIndex());

            long second = append(spool, "second");
            assertEquals(List.of(), files(".precreated"));
            assertEquals(List.of("first", "second"), readAll(spool));
            assertEquals(second, spool.lastIndex());
        }
    }

    @Test
    void withoutRoomNoFileIsMadeButTheMarkIsForced() throws Exception {
        try (Spool spool = open()) {
            append(spool, "first");
            clock.set(START + HOUR - 1000);
            spool.rollAhead(4095); // less than a page
            assertEquals(List.of(), files(".precreated"));
            assertTrue(cycleMark() >= spool.currentCycle() + 2);
            clock.set(START + HOUR);
            append(spool, "second");
            assertEquals(List.of("first", "second"), readAll(spool));
        }
    }

    /** A spool that rolls by size (a quarter of max_bytes) gets no more than a quarter of a roll in zeros. */
    @Test
    void aSmallSpoolGetsASmallFile() throws Exception {
        try (Spool spool = new Spool(
                dir.resolve("spool"),
                Spool.Settings.defaults().rollBytes(1 << 20).wallClock(clock::get))) {
            append(spool, "first");
            clock.set(START + HOUR - 1000);
            spool.rollAhead(Long.MAX_VALUE);
            assertEquals(
                    256 << 10,
                    Files.size(queueDir().resolve(files(".precreated").get(0))));
        }
    }

    /** The product's way: the pretoucher's thread makes the next file within the minute before the roll. */
    @Test
    void thePretouchersThreadMakesTheNextFile() throws Exception {
        try (Spool spool = open()) {
            append(spool, "first");
            clock.set(START + HOUR - 20_000);
            spool.pretouch(() -> Long.MAX_VALUE);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> files(".precreated").size() == 1);
            clock.set(START + HOUR);
            append(spool, "second");
            assertEquals(List.of(), files(".precreated"));
            assertEquals(0, spool.pretoucher().failures());
        }
    }

    /** The records as the forwarder reads them (SpoolReader), with nothing reported corrupt. */
    private static List<String> readAll(Spool spool) {
        List<String> texts = new ArrayList<>();
        List<String> corrupt = new ArrayList<>();
        try (SpoolReader reader = new SpoolReader(spool, (index, reason) -> corrupt.add(index + ": " + reason))) {
            for (SpoolRecord.Entry e; (e = reader.next(System.nanoTime())) != null; ) {
                texts.add(new String(e.payload(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(List.of(), corrupt);
        return texts;
    }
}
