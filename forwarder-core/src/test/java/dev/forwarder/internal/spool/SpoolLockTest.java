package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.ForwarderException;
import dev.forwarder.testkit.JavaProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One forwarder per spool, across processes and within one: the lock is an OS lock, which POSIX drops for
 * the whole process when any descriptor of the file is closed, so a refused second acquire in the same JVM
 * must not open (and close) the file. Another process checks the lock from outside.
 */
class SpoolLockTest {

    @TempDir
    Path dir;

    private String probe() throws Exception {
        Path out = dir.resolve("probe-" + System.nanoTime() + ".log");
        Process child = JavaProcess.start(
                LockProbeChild.class, out, dir.resolve("spool").toString());
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the probe did not finish");
        return Files.readString(out)
                .lines()
                .filter(l -> l.startsWith("acquired") || l.startsWith("refused") || l.startsWith("failed"))
                .findFirst()
                .orElse(Files.readString(out));
    }

    @Test
    void aRefusedSecondAcquireInTheSameProcessKeepsTheFirstLock() throws Exception {
        Path spool = dir.resolve("spool");
        Files.createDirectories(spool);
        try (SpoolLock first = SpoolLock.acquire(spool)) {
            ForwarderException again = assertThrows(ForwarderException.class, () -> SpoolLock.acquire(spool));
            assertTrue(
                    again.getMessage()
                            .contains("already being forwarded by process "
                                    + ProcessHandle.current().pid()),
                    again.getMessage());
            // Another process must still be refused: the lock survived the refused attempt.
            String other = probe();
            assertTrue(
                    other.startsWith("refused")
                            && other.contains(
                                    String.valueOf(ProcessHandle.current().pid())),
                    "another process while the lock is held: " + other);
        }
        assertEquals("acquired", probe(), "released at close");
    }
}
