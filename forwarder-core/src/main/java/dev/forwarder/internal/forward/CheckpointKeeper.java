package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.Spool;
import java.io.IOException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint's upkeep: every {@code spool.checkpoint_interval_ms} it is forced to disk (the spool's data
 * first when {@code spool.sync} is not none, so that after an OS crash the checkpoint on disk never covers
 * records that did not reach the disk), retention deletes the roll files it covers, and dead letters older
 * than their retention go; once more at close.
 * Forwarder thread only.
 */
final class CheckpointKeeper {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointKeeper.class);

    private final Spool spool;
    private final Checkpoint checkpoint;
    private final RollFiles rollFiles;
    private final long intervalNanos;
    private final boolean syncSpoolFirst;
    private final LongSupplier epochMillis;
    private final Settler settler;
    private long lastForceNanos;

    CheckpointKeeper(
            Spool spool,
            Checkpoint checkpoint,
            RollFiles rollFiles,
            long intervalNanos,
            boolean syncSpoolFirst,
            LongSupplier epochMillis,
            Settler settler) {
        this.spool = spool;
        this.checkpoint = checkpoint;
        this.rollFiles = rollFiles;
        this.intervalNanos = intervalNanos;
        this.syncSpoolFirst = syncSpoolFirst;
        this.epochMillis = epochMillis;
        this.settler = settler;
    }

    /** The interval counts from here. */
    void start(long nowNanos) {
        lastForceNanos = nowNanos;
    }

    /** Forces the checkpoint and applies retention when the interval has passed. */
    void tick(long nowNanos) {
        if (nowNanos - lastForceNanos >= intervalNanos) {
            force();
            lastForceNanos = nowNanos;
            rollFiles.deleteForwarded(checkpoint.read(), epochMillis.getAsLong());
            settler.expireDeadLetters(epochMillis.getAsLong());
        }
    }

    /** At close: the checkpoint forced, retention applied. */
    void close() {
        force();
        try {
            rollFiles.deleteForwarded(checkpoint.read(), epochMillis.getAsLong());
        } catch (RuntimeException e) {
            LOG.warn("applying retention at close failed", e);
        }
    }

    private void force() {
        if (syncSpoolFirst) {
            try {
                spool.syncFiles();
            } catch (IOException e) {
                LOG.warn("cannot force the spool's roll files to disk; the checkpoint stays in memory", e);
                return;
            }
        }
        checkpoint.force();
    }
}
