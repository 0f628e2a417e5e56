package dev.forwarder.internal.spool;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.NavigableSet;
import java.util.TreeSet;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every deletion of a roll file happens here, for one of two reasons.
 *
 * <ul>
 *   <li><b>Retention</b> ({@link #deleteForwarded}): a roll file holds one cycle (an hour by default, less
 *       when it rolled by size). Cycle {@code c} may go when the <em>persisted</em> checkpoint lies in a later
 *       cycle (every record of {@code c} is settled: delivered, dead-lettered, corrupt or lost) and the file was
 *       last record was appended more than {@code spool.retain_forwarded} ago. The file of the checkpoint's own cycle, and
 *       anything after it, is never touched.
 *   <li><b>Making room</b> ({@link #discard}, {@code on_full = drop_oldest}): the oldest roll file goes,
 *       forwarded or not, but never the newest one (the one being appended to).
 * </ul>
 *
 * Called by the forwarder thread only; not thread-safe.
 */
public final class RollFiles {

    private static final Logger LOG = LoggerFactory.getLogger(RollFiles.class);

    /**
     * A roll file discarded to make room: its records had indexes {@code [firstIndex, nextIndex)}, and
     * {@code unsettled} of them were after the checkpoint.
     */
    public record Discarded(String file, long firstIndex, long nextIndex, long unsettled) {}

    /** A {@link #discard} whose bookkeeping a crash interrupted: {@code lost} of its records were not forwarded. */
    public record Interrupted(String file, long firstIndex, long nextIndex, long lost) {}

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final Duration retain;
    private final RollCycle cycle;

    public RollFiles(Spool spool, Duration retain) {
        this.dir = spool.dir();
        this.queue = spool.queue();
        this.retain = retain;
        this.cycle = queue.rollCycle();
    }

    /**
     * Deletes the roll files fully covered by {@code persistedCheckpoint} and older than the retention.
     *
     * @return the number of files deleted
     */
    public int deleteForwarded(long persistedCheckpoint, long nowMs) {
        if (persistedCheckpoint < 0) {
            return 0;
        }
        int checkpointCycle = cycle.toCycle(persistedCheckpoint);
        int first = queue.firstCycle();
        if (first == Integer.MAX_VALUE || first >= checkpointCycle) {
            return 0;
        }
        // Chronicle lists between cycles that exist (the hour before the checkpoint's may have no file):
        // list them all, then keep those before the checkpoint's. A copy: Chronicle's list is a view bounded by
        // the last cycle, and the checkpoint can lie beyond it (an OS crash took the spool's last files after
        // the checkpoint past them was forced).
        NavigableSet<Long> all = new TreeSet<>(queue.listCyclesBetween(first, queue.lastCycle()));
        NavigableSet<Long> cycles = all.headSet((long) checkpointCycle, false);
        int deleted = 0;
        for (long c : cycles) {
            File file = fileFor(queue, (int) c);
            if (file.exists() && nowMs - lastAppendMs(c, all.higher(c), file) < retain.toMillis()) {
                continue;
            }
            if (file.exists() && file.delete()) {
                deleted++;
                LOG.debug("deleted forwarded roll file {}", file);
            } else if (file.exists()) {
                LOG.warn("cannot delete forwarded roll file {}", file);
            }
        }
        if (deleted > 0) {
            deleted(queue);
        }
        return deleted;
    }

    /**
     * Deletes the roll files whose last record is older than the retention, whether forwarded or not, but never
     * the newest one (it may be appended to): for the dead-letter spool, whose records wait for a redrive.
     *
     * @return how many records the deleted files held
     */
    public long deleteExpired(long nowMs) {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || first >= last) {
            return 0;
        }
        NavigableSet<Long> all = queue.listCyclesBetween(first, last);
        long records = 0;
        boolean deleted = false;
        for (long c : all.headSet((long) last, false)) {
            File file = fileFor(queue, (int) c);
            Long next = all.higher(c);
            if (!file.exists() || nowMs - lastAppendMs(c, next, file) < retain.toMillis()) {
                continue;
            }
            long held = queue.countExcerpts(cycle.toIndex((int) c, 0), cycle.toIndex(next.intValue(), 0));
            if (file.delete()) {
                records += held;
                deleted = true;
                LOG.warn("deleted expired roll file {} ({} records, the last older than {})", file, held, retain);
            }
        }
        if (deleted) {
            deleted(queue);
        }
        return records;
    }

    /** Whether there is a roll file that {@link #oldestDiscardable} names (one that is not the newest). */
    public boolean canDiscard() {
        int first = queue.firstCycle();
        return first != Integer.MAX_VALUE && first < queue.lastCycle();
    }

    /**
     * The oldest roll file, which may be discarded to make room unless it is the newest one.
     *
     * @param checkpoint the checkpoint now, to count the file's records after it
     * @return the file and its records, or null if none may be discarded
     */
    public Discarded oldestDiscardable(long checkpoint) {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || first >= last) {
            return null;
        }
        NavigableSet<Long> cycles = queue.listCyclesBetween(first, last);
        long oldest = cycles.first();
        Long next = cycles.higher(oldest);
        if (next == null) {
            return null;
        }
        long firstIndex = cycle.toIndex((int) oldest, 0);
        long nextIndex = cycle.toIndex(next.intValue(), 0);
        // The file's records after the checkpoint. Chronicle counts only between cycles that have files: a
        // checkpoint past this file but before the next one (one the last discard moved to the end of a cycle,
        // whose file an OS crash then took) has none of this file's records after it. And it counts less than
        // nothing from beyond a file's last record (a checkpoint that Kafka's position moved past records an OS
        // crash took from this file).
        long from = Math.max(firstIndex, checkpoint + 1);
        long unsettled = from >= nextIndex || cycle.toCycle(from) != oldest
                ? 0
                : Math.max(0, queue.countExcerpts(from, nextIndex));
        return new Discarded(fileFor(queue, (int) oldest).getName(), firstIndex, nextIndex, unsettled);
    }

    /**
     * Deletes a roll file {@link #oldestDiscardable} named, having first written down that it goes and how many
     * of its records were not forwarded ({@code lost}), in {@code <spool>/discarding}: the bookkeeping that
     * follows (the lost count, the checkpoint past the file) is done again at the next start if the process
     * dies before it ({@link #interruptedDiscard}). The note survives a crash of the process, not necessarily
     * one of the operating system (whose counts are not exact anyway).
     */
    public void discard(Discarded d, long lost) {
        Path note = intentFile();
        try {
            Files.writeString(note, d.file() + " " + d.firstIndex() + " " + d.nextIndex() + " " + lost + "\n");
            OwnerOnly.file(note);
        } catch (IOException e) {
            // Without the note, a crash in the next microseconds leaves the file's records uncounted: no reason
            // to keep a full spool from making room.
            LOG.warn("cannot write {}: {}", note, e.toString());
        }
        File file = new File(queue.file(), d.file());
        if (!file.delete()) {
            LOG.warn("cannot delete roll file {} to make room", file);
        }
        deleted(queue);
    }

    /** The bookkeeping of the last {@link #discard} is done: its note goes. */
    public void discardSettled() {
        try {
            Files.deleteIfExists(intentFile());
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", intentFile(), e.toString());
        }
    }

    /**
     * At start: a discard whose bookkeeping a crash may have interrupted; null if there is none, or if the
     * file was never deleted (the crash came before: nothing happened, the note goes).
     */
    public Interrupted interruptedDiscard() {
        Path note = intentFile();
        if (!Files.exists(note)) {
            return null;
        }
        Interrupted d;
        try {
            String[] f = Files.readString(note).trim().split(" ");
            d = new Interrupted(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
        } catch (IOException | RuntimeException e) {
            LOG.warn("{} cannot be read ({}): a discard's lost records may have gone uncounted", note, e.toString());
            discardSettled();
            return null;
        }
        if (new File(queue.file(), d.file()).exists()) {
            discardSettled();
            return null;
        }
        return d;
    }

    private Path intentFile() {
        return dir.resolve("discarding");
    }

    /**
     * When cycle {@code c}'s last record was appended (its own append time, in the writers' clock), for
     * retention: not the file's name, which follows the roll clock (ahead of the wall clock while files roll
     * by size). The file's last modification if its last record cannot be read.
     */
    private long lastAppendMs(long c, Long next, File file) {
        if (next != null) {
            long count = queue.countExcerpts(cycle.toIndex((int) c, 0), cycle.toIndex(next.intValue(), 0));
            if (count > 0) {
                try (ExcerptTailer tailer = queue.createTailer()) {
                    if (tailer.moveToIndex(cycle.toIndex((int) c, count - 1))) {
                        try (DocumentContext dc = tailer.readingDocument()) {
                            long time = dc.isPresent()
                                    ? SpoolRecord.appendTimeOf(dc.wire().bytes())
                                    : -1;
                            if (time >= 0) {
                                return time;
                            }
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.debug("cannot read the last record of roll file {}; going by its last write", file, e);
                }
            }
        }
        return file.lastModified();
    }

    /**
     * After roll files were deleted: Chronicle re-reads the directory, and the deletion is forced to the disk
     * (an fsync of the directory), so that an OS crash cannot bring a discarded or forwarded file back: its
     * records were counted, and sent again they would come out of order.
     */
    private static void deleted(SingleChronicleQueue queue) {
        queue.refreshDirectoryListing();
        try (FileChannel dir = FileChannel.open(queue.file().toPath(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            LOG.warn("cannot force the deletion of roll files in {} to the disk: {}", queue.file(), e.toString());
        }
    }

    static File fileFor(SingleChronicleQueue queue, int c) {
        RollCycle rollCycle = queue.rollCycle();
        String name = DateTimeFormatter.ofPattern(rollCycle.format())
                .withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli((long) c * rollCycle.lengthInMillis() + queue.epoch()));
        return new File(queue.file(), name + ".cq4");
    }
}
