package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
