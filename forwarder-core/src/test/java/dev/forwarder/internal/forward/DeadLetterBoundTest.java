package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.internal.spool.OpenSpool;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters have a bound and a retention of their own and never starve the spool: three days of one
 * refused record an hour (simulated hours: the dead-letter spool's clock and the records' append times follow
 * the test) leave the spool free to take records, keep the dead-letter files under their own bound, and
 * delete those past their retention, counting the records they held. Before, dead letters went to hourly
 * files of the spool's mapping block, counted against the spool's own max_bytes, and filled it within hours.
 */
class DeadLetterBoundTest {

    @TempDir
    Path dir;

    @Test
    void daysOfHourlyDeadLettersNeitherFillTheSpoolNorOutgrowTheirOwnBound() throws Exception {
        long spoolMax = 16L << 20;
        long deadLetterMax = 4L << 20;
        long[] nowMs = {System.currentTimeMillis()};
        Path spoolDir = dir.resolve("spool");
        long block = SpaceGuard.blockSizeFor(spoolDir, spoolMax);
        byte[] json = "{\"id\":\"too-large\"}".getBytes(StandardCharsets.UTF_8);
        long written = 0;
        long expired = 0;
        try (Spool spool = new Spool(spoolDir, Spool.Settings.defaults().blockSize(block));
                Spool deadLetterSpool = new Spool(
                        spoolDir.resolve(Spool.DEAD_LETTER_DIR),
                        OpenSpool.deadLetterSettings(block, deadLetterMax).wallClock(() -> nowMs[0]));
                SpaceGuard space = SpaceGuard.measuredByCaller(spool, spoolMax, block, () -> 1L << 40);
                SpaceGuard deadLetterSpace = SpaceGuard.deadLetters(deadLetterSpool, deadLetterMax)) {
            DeadLetters deadLetters = new DeadLetters(deadLetterSpool, deadLetterSpace, Duration.ofHours(24));
            for (int hour = 0; hour < 72; hour++) {
                SpoolRecord.Entry refused =
                        new SpoolRecord.Entry(hour, DataType.MODEL_INFERENCE, nowMs[0], null, json, null);
                assertNull(deadLetters.write(refused, UUID.randomUUID(), "RecordTooLargeException: too large"));
                written++;
                nowMs[0] += TimeUnit.HOURS.toMillis(1);
                expired += deadLetters.expire(nowMs[0]);
                assertTrue(
                        deadLetterSpool.allocatedBytes() <= deadLetterMax,
                        "hour " + hour + ": dead letters take " + deadLetterSpool.allocatedBytes() + " bytes");
                space.measure();
                assertTrue(
                        space.admits(1000),
                        "hour " + hour + ": the spool refuses records (" + spool.diskBytes() + " bytes counted)");
            }
            long kept = deadLetterSpool.query().countAfter(-1);
            System.out.printf(
                    "72 hourly dead letters: %d kept, %d expired; dead letters take %d KiB on disk, the spool %d KiB%n",
                    kept, expired, deadLetterSpool.allocatedBytes() >> 10, spool.diskBytes() >> 10);
            assertTrue(expired >= 24, "files last written more than a day ago were deleted: " + expired);
            assertEquals(written, kept + expired, "each dead letter is kept or counted expired");
        }
    }
}
