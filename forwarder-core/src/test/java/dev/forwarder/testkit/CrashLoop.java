package dev.forwarder.testkit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The crash tests' kill loop: a forwarder child JVM (started by {@link JavaProcess}, so the process killed is
 * the JVM itself, never a wrapper that would survive and keep the lock) is left to move the checkpoint, then
 * SIGKILLed a random 50 to 400 ms later. Each kill is checked to have landed mid-work: the checkpoint on disk
 * behind the spool's last record (records were still to forward).
 */
public final class CrashLoop {

    private final Spool spool;
    private final Path checkpointFile;
    private final Path log;
    private long checkpoint = Checkpoint.NONE;
    private int kills;

    /** @param spool the spool the children forward (opened by the test, which appends to it meanwhile) */
    public CrashLoop(Spool spool, Path log) {
        this.spool = spool;
        this.checkpointFile = spool.dir().resolve("checkpoint");
        this.log = log;
    }

    /** Waits until {@code child} moves the checkpoint past where it was; fails at once if the child dies. */
    public long awaitProgress(Process child, Duration timeout) {
        long since = checkpoint;
        try {
            checkpoint = await().atMost(timeout)
                    .pollInterval(Duration.ofMillis(20))
                    .until(
                            () -> {
                                assertTrue(
                                        child.isAlive(),
                                        () -> "forwarder child died by itself; see " + log + ":\n" + read(log));
                                return Checkpoint.readFile(checkpointFile);
                            },
                            cp -> cp != since);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    "the child moved no checkpoint within " + timeout.toSeconds() + " s:\n" + read(log));
        }
        return checkpoint;
    }

    /**
     * SIGKILLs {@code child} after 50 to 400 ms and returns the checkpoint it left. The kill must have found
     * work in progress: a checkpoint behind the spool's last record.
     */
    public long kill(Process child) throws Exception {
        Thread.sleep(ThreadLocalRandom.current().nextInt(50, 400));
        child.destroyForcibly().waitFor(); // SIGKILL of the child JVM's own pid
        kills++;
        checkpoint = Checkpoint.readFile(checkpointFile);
        long last = spool.lastIndex();
        assertTrue(
                checkpoint < last,
                "kill " + kills + " landed with nothing left to forward (checkpoint " + checkpoint + ", last record "
                        + last + "): it did not crash a forwarder mid-work");
        System.out.println("killed forwarder " + kills + " (pid " + child.pid() + ") at checkpoint " + checkpoint + ", "
                + (last - checkpoint) + " indexes behind the spool's last record");
        return checkpoint;
    }

    public int kills() {
        return kills;
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
