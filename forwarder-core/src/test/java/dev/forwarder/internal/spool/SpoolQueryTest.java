package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.DataType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SpoolQuery#countAfter}, the backlog of {@code status()} and the metrics, against a count of the
 * records read back: after every checkpoint a spool can have, with its records in one roll file and in
 * several (an hour without records between them, so without a file).
 */
class SpoolQueryTest {

    private static final long HOUR = TimeUnit.HOURS.toMillis(1);
    private static final long START = 1_764_460_800_000L; // an hour's start

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(START);

    @Test
    void countsTheRecordsAfterEveryCheckpointInOneRollFile() throws Exception {
        try (Spool spool =
                new Spool(dir.resolve("one"), Spool.Settings.defaults().wallClock(clock::get))) {
            assertEquals(0, spool.query().countAfter(Checkpoint.NONE), "an empty spool");
            List<Long> indexes = append(spool, 9);
            assertCountsAfterEveryCheckpoint(spool, indexes);
        }
    }

    @Test
    void countsTheRecordsAfterEveryCheckpointAcrossRollFiles() throws Exception {
        try (Spool spool =
                new Spool(dir.resolve("several"), Spool.Settings.defaults().wallClock(clock::get))) {
            List<Long> indexes = new ArrayList<>(append(spool, 5));
            clock.set(START + 2 * HOUR); // no record in the hour between: no roll file for it
            indexes.addAll(append(spool, 7));
            clock.set(START + 3 * HOUR);
            indexes.addAll(append(spool, 4));
            assertEquals(
                    3,
                    spool.queue().rollCycle().toCycle(indexes.get(15))
                            - spool.queue().rollCycle().toCycle(indexes.get(0)),
                    "the records span three hours");
            assertCountsAfterEveryCheckpoint(spool, indexes);
        }
    }

    private List<Long> append(Spool spool, int n) {
        List<Long> indexes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            indexes.add(spool.append(
                    DataType.CHAT_INFERENCE, 0, null, ("record " + i).getBytes(StandardCharsets.UTF_8), null));
        }
        return indexes;
    }

    /** NONE, every record's index, and an index of an hour before the first record. */
    private static void assertCountsAfterEveryCheckpoint(Spool spool, List<Long> indexes) {
        List<Long> checkpoints = new ArrayList<>(indexes);
        checkpoints.add(Checkpoint.NONE);
        int firstCycle = spool.queue().rollCycle().toCycle(indexes.get(0));
        checkpoints.add(spool.queue().rollCycle().toIndex(firstCycle - 1, 3));
        for (long checkpoint : checkpoints) {
            long expected = indexes.stream().filter(i -> i > checkpoint).count();
            assertEquals(expected, spool.query().countAfter(checkpoint), "records after checkpoint " + checkpoint);
        }
    }
}
