package dev.forwarder.internal.journal;

import java.io.File;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.NavigableSet;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the spool's roll files once everything in them is forwarded and the checkpoint that says so is
 * on disk, after {@code spool.retain_forwarded} (kept that long for replay).
 *
 * <p>A roll file holds one cycle (an hour by default). Cycle {@code c} may go when the persisted checkpoint
 * lies in a later cycle: every record of {@code c} is then settled (delivered, dead-lettered or corrupt).
 * The file of the checkpoint's own cycle, and anything after it, is never touched. Called by the forwarder
 * thread right after it forced the checkpoint to disk; not thread-safe.
 */
public final class Retention {

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

    private final SingleChronicleQueue queue;
    private final Duration retain;
    private final DateTimeFormatter fileNames;
    private final RollCycle cycle;

    public Retention(Spool spool, Duration retain) {
        this.queue = spool.queue();
        this.retain = retain;
        this.cycle = queue.rollCycle();
        this.fileNames = DateTimeFormatter.ofPattern(cycle.format()).withZone(ZoneOffset.UTC);
    }

    /**
     * Deletes the roll files fully covered by {@code persistedCheckpoint} and older than the retention.
     *
     * @return the number of files deleted
     */
    public int apply(long persistedCheckpoint, long nowMs) {
        if (persistedCheckpoint < 0) {
            return 0;
        }
        int checkpointCycle = cycle.toCycle(persistedCheckpoint);
        int first = queue.firstCycle();
        if (first == Integer.MAX_VALUE || first >= checkpointCycle) {
            return 0;
        }
        // Chronicle lists between cycles that exist (the hour before the checkpoint's may have no file):
        // list them all, then keep those before the checkpoint's.
        NavigableSet<Long> cycles = queue.listCyclesBetween(first, queue.lastCycle()).headSet((long) checkpointCycle, false);
        int deleted = 0;
        for (long c : cycles) {
            long cycleEndMs = (c + 1) * cycle.lengthInMillis() + queue.epoch();
            if (nowMs - cycleEndMs < retain.toMillis()) {
                break; // later cycles are younger still
            }
            File file = fileFor((int) c);
            if (file.exists() && file.delete()) {
                deleted++;
                LOG.debug("deleted forwarded roll file {}", file);
            } else if (file.exists()) {
                LOG.warn("cannot delete forwarded roll file {}", file);
            }
        }
        if (deleted > 0) {
            queue.refreshDirectoryListing();
        }
        return deleted;
    }

    public File fileFor(int c) {
        String name = fileNames.format(Instant.ofEpochMilli((long) c * cycle.lengthInMillis() + queue.epoch()));
        return new File(queue.file(), name + ".cq4");
    }
}
