package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpaceGuardTest {

    @TempDir
    Path dir;

    /** Two appender processes on one spool: each must see what the other appended since it last measured. */
    @Test
    void aWriterSeesWhatAnotherWriterAppendedSinceItsLastMeasurement() throws Exception {
        long margin = 1 << 20;
        long[] usable = {100L << 20};
        try (Spool one = new Spool(dir);
                Spool other = new Spool(dir);
                SpaceGuard a = SpaceGuard.measuredByCaller(one, 1L << 40, margin, () -> usable[0]);
                SpaceGuard b = SpaceGuard.measuredByCaller(other, 1L << 40, margin, () -> usable[0])) {
            assertTrue(b.admits(1 << 20));
            for (int i = 0; i < 98; i++) {
                a.appended(1 << 20); // 98 MiB through the first writer, not yet on any measurement
            }
            assertFalse(b.admits(1 << 20), "the second writer would fill the disk past its margin");
            assertFalse(a.admits(1 << 20));
        }
    }

    /**
     * The bound holds however late the next measurement comes: with one measurement at the start, a writer
     * that appends while the guard admits must leave the spool's files (their lengths: what max_bytes bounds)
     * within max_bytes, across every roll to a new file that its appends cause (a new file starts a mapping
     * block and its overlap long, and the old one keeps what Chronicle lengthened it by ahead of its data).
     */
    @Test
    void noMeasurementBetweenAppendsStillKeepsTheFilesWithinMaxBytes() throws Exception {
        long maxBytes = 48L << 20;
        long block = maxBytes / 16;
        byte[] payload = new byte[1300];
        Arrays.fill(payload, (byte) 'x');
        try (Spool spool = new Spool(
                        dir,
                        Spool.Settings.defaults()
                                .rollBytes(OpenSpool.rollBytes(maxBytes))
                                .blockSize(block));
                SpaceGuard guard = SpaceGuard.measuredByCaller(spool, maxBytes, block, () -> 1L << 40)) {
            int size = spool.encodedSize(-1, payload.length, 0);
            long records = 0;
            while (guard.reserve(size)) {
                spool.append(DataType.CHAT_INFERENCE, System.currentTimeMillis(), null, payload, null);
                records++;
            }
            long files = spool.diskBytes();
            assertTrue(
                    files <= maxBytes,
                    records + " records admitted on one measurement made the files " + files + " bytes, over "
                            + maxBytes);
            assertTrue(records * size > maxBytes / 2, "the bound let through only " + records + " records");
        }
    }

    /**
     * The same when the one measurement is taken anywhere in a roll file, not only on an empty spool: just
     * before a roll, the appends since can end the current file and then a whole new one (whose records start
     * after Chronicle's header and index, so it rolls on less than roll_bytes of records), and each roll file
     * ends a block and its overlap longer than its records. Seen in CI: three full files and a fourth, 53.7 MB
     * over 48 MiB, when the measuring thread was starved for a file's worth of appends.
     */
    @Test
    void oneMeasurementAnywhereInARollFileStillKeepsTheFilesWithinMaxBytes() throws Exception {
        long maxBytes = 16L << 20;
        long block = maxBytes / 16;
        long rollBytes = OpenSpool.rollBytes(maxBytes);
        byte[] payload = new byte[1300];
        Arrays.fill(payload, (byte) 'x');
        // Where the measurement falls: in the first, second or third roll file, at every half block, and a
        // record or two before the file ends.
        List<long[]> points = new ArrayList<>();
        for (long file = 0; file < 3; file++) {
            for (long at = 0; at < rollBytes; at += block / 2) {
                points.add(new long[] {file, at});
            }
            for (long before = 1; before <= 3; before++) {
                points.add(new long[] {file, rollBytes - before * (payload.length + 16)});
            }
        }
        for (long[] point : points) {
            long file = point[0];
            long position = point[1];
            Path spoolDir = dir.resolve("at-" + file + "-" + position);
            try (Spool spool = new Spool(
                    spoolDir, Spool.Settings.defaults().rollBytes(rollBytes).blockSize(block))) {
                int size = spool.encodedSize(-1, payload.length, 0);
                long rolls = -1;
                int cycle = Integer.MIN_VALUE;
                while (rolls < file || spool.appendPosition() < position) {
                    spool.append(DataType.CHAT_INFERENCE, System.currentTimeMillis(), null, payload, null);
                    if (spool.appendCycle() != cycle) {
                        cycle = spool.appendCycle();
                        rolls++;
                    }
                }
                long prefill = spool.appendPosition();
                try (SpaceGuard guard = SpaceGuard.measuredByCaller(spool, maxBytes, block, () -> 1L << 40)) {
                    while (guard.reserve(size)) {
                        spool.append(DataType.CHAT_INFERENCE, System.currentTimeMillis(), null, payload, null);
                    }
                    long files = spool.diskBytes();
                    assertTrue(
                            files <= maxBytes,
                            "measured in roll file " + file + " at " + prefill + ", the files grew to " + files
                                    + " bytes, over " + maxBytes);
                }
            }
        }
    }

    /** Retention deletes roll files while the guard measures: a measurement must never come out as "none". */
    @Test
    void filesDeletedDuringTheWalkNeverTurnTheMeasurementOff() throws Exception {
        try (Spool spool = new Spool(dir)) {
            Path churn = dir.resolve("queue");
            AtomicBoolean stop = new AtomicBoolean();
            Thread deleter = new Thread(() -> {
                for (long i = 0; !stop.get(); i++) {
                    Path f = churn.resolve("churn-" + (i % 64) + ".cq4");
                    try {
                        Files.write(f, new byte[16]);
                        Files.deleteIfExists(churn.resolve("churn-" + ((i + 32) % 64) + ".cq4"));
                    } catch (IOException e) {
                        // racing ourselves; go on
                    }
                }
            });
            deleter.start();
            try {
                for (int i = 0; i < 20_000; i++) {
                    long bytes = spool.diskBytes();
                    assertTrue(bytes >= 0, "measurement " + i + " came out as " + bytes);
                }
            } finally {
                stop.set(true);
                deleter.join();
            }
        }
    }
}
