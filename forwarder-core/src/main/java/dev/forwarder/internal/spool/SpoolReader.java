package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the spool in index order for the forwarder: decodes each record, and owns the two ways a spool can
 * be damaged so that the forwarder never sees them.
 *
 * <ul>
 *   <li><b>A corrupt record</b> (checksum or layout wrong): reported once to the {@link CorruptRecords}
 *       sink, copied to {@code quarantine/<spool index>.record} with a {@code .reason} file, and skipped.
 *   <li><b>A roll file without an end-of-file marker</b> (truncated, or its writer died mid-record) while
 *       later roll files exist: after {@link #UNTERMINATED_GRACE_NANOS} with nothing to read in it, reading
 *       goes on in the next file. The records after the damage cannot be read, nor counted.
 * </ul>
 *
 * <p>Not thread-safe: the forwarder thread owns it. Time is passed in ({@code nowNanos}) for tests.
 */
public final class SpoolReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpoolReader.class);
    static final long UNTERMINATED_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** Told, once per record, about each corrupt record the reader skips (in index order with the others). */
    public interface CorruptRecords {
        void corrupt(long index, String reason);

        /** Reading stopped at an intact record it cannot open (sealed with a key not at hand); said once. */
        default void unreadable(long index, String reason) {}
    }

    private final Spool spool;
    private final SingleChronicleQueue queue;
    /** Made at the first use, on the thread that reads (Chronicle's tailers belong to one thread). */
    private ExcerptTailer tailer;

    private final CorruptRecords corrupt;
    private long readFrom = Long.MIN_VALUE;
    private String unreadable;
    private long stuckSinceNanos;
    private int stuckCycle;
    /** The last roll cycle {@link #plausible} found to exist; none yet. */
    private int plausibleCycle = Integer.MIN_VALUE;

    public SpoolReader(Spool spool, CorruptRecords corrupt) {
        this.spool = spool;
        this.queue = spool.queue();
        this.corrupt = corrupt;
    }

    private ExcerptTailer tailer() {
        if (tailer == null) {
            tailer = queue.createTailer();
        }
        return tailer;
    }

    /** Positions the reader on the first record after {@code index}; {@link Checkpoint#NONE}: the start. */
    public void seekAfter(long index) {
        if (index == Checkpoint.NONE) {
            readFrom = Long.MIN_VALUE;
            tailer().toStart();
            return;
        }
        readFrom = index + 1;
        if (!tailer().moveToIndex(index)) {
            tailer().toStart(); // that roll file is gone: read from the first that exists, skipping up to readFrom
        }
    }

    /** Moves the reader forward to {@code index} unless it is already there or past it. */
    public void skipTo(long index) {
        if (index > readFrom) {
            seekAfter(index - 1);
        }
    }

    /**
     * The next readable record, or null if there is none now. Corrupt records on the way are reported to the
     * sink, quarantined and passed over; at most {@code maxCorrupt} of them in one call.
     */
    public SpoolRecord.Entry next(long nowNanos) {
        for (int skipped = 0; skipped < 1024; skipped++) {
            try (DocumentContext dc = tailer().readingDocument()) {
                if (!dc.isPresent()) {
                    moveOnFromUnterminatedFile(nowNanos);
                    return null;
                }
                long index = dc.index();
                if (index < readFrom) {
                    continue;
                }
                if (!plausible(index)) {
                    // Zeros or garbage where a document header should be (a truncated roll file): nothing more
                    // to read in this file; moveOnFromUnterminatedFile() goes on once later files exist.
                    dc.rollbackOnClose();
                    moveOnFromUnterminatedFile(nowNanos);
                    return null;
                }
                Bytes<?> bytes = dc.wire().bytes();
                long start = bytes.readPosition();
                try {
                    SpoolRecord.Entry entry = SpoolRecord.decode(index, bytes, spool.keys());
                    readFrom = index + 1;
                    stuckSinceNanos = 0;
                    unreadable = null;
                    return entry;
                } catch (SpoolRecord.UnknownKeyException e) {
                    // Intact, only not readable with these keys: stay on it (never skip, never quarantine)
                    // until the keys are fixed and the forwarder restarted. Said once, then waited on.
                    dc.rollbackOnClose();
                    if (unreadable == null) {
                        unreadable = "spool record " + index + " cannot be read: " + e.getMessage();
                        corrupt.unreadable(index, unreadable);
                    }
                    return null;
                } catch (SpoolRecord.CorruptRecordException e) {
                    readFrom = index + 1;
                    stuckSinceNanos = 0;
                    bytes.readPosition(start);
                    Path copy = quarantine(index, bytes.toByteArray(), e.getMessage());
                    LOG.error("spool record {} is corrupt ({}); skipped, copied to {}", index, e.getMessage(), copy);
                    corrupt.corrupt(index, e.getMessage());
                }
            }
        }
        return null;
    }

    /**
     * Keeps a copy of a corrupt record for a person to look at: {@code quarantine/<spool index>.record}
     * (its bytes as found) and {@code .reason}. Best effort: the record is skipped and counted either way.
     */
    private Path quarantine(long index, byte[] raw, String reason) {
        Path dir = spool.dir().resolve("quarantine");
        try {
            OwnerOnly.directory(dir);
            Files.write(dir.resolve(index + ".record"), raw);
            Files.writeString(dir.resolve(index + ".reason"), reason + "\n", StandardCharsets.UTF_8);
            OwnerOnly.file(dir.resolve(index + ".record"));
            OwnerOnly.file(dir.resolve(index + ".reason"));
            return dir.resolve(index + ".record");
        } catch (IOException e) {
            LOG.warn("cannot copy corrupt record {} to {}: {}", index, dir, e.toString());
            return null;
        }
    }

    /**
     * An index of a roll cycle that exists: a damaged header can yield any number. A cycle found to exist is
     * kept, and its records are passed without asking again: Chronicle's first and last cycle each read the
     * clock and the directory's cached listing, 5% of the forwarder thread when asked for every record (a
     * profile of a forwarder kept running).
     */
    private boolean plausible(long index) {
        int c = queue.rollCycle().toCycle(index);
        if (c == plausibleCycle) {
            return true;
        }
        if (c >= queue.firstCycle() && c <= queue.lastCycle()) {
            plausibleCycle = c;
            return true;
        }
        return false;
    }

    /**
     * A roll file normally ends with an end-of-file marker, written when its cycle is over. One that was
     * truncated, or whose writer died mid-record, has none: the reader would wait at its end forever while
     * later files hold records. After a grace period with nothing to read here and a later roll file
     * present, move on to it.
     */
    private void moveOnFromUnterminatedFile(long now) {
        int current = tailer().cycle();
        int last = queue.lastCycle();
        if (last <= current) {
            stuckSinceNanos = 0;
            return;
        }
        if (stuckSinceNanos == 0 || stuckCycle != current) {
            stuckSinceNanos = now;
            stuckCycle = current;
            return;
        }
        if (now - stuckSinceNanos < UNTERMINATED_GRACE_NANOS) {
            return;
        }
        // Chronicle lists between cycles that exist: ask for all of them and take the next after this one.
        Long later = queue.listCyclesBetween(queue.firstCycle(), last).higher((long) current);
        if (later == null) {
            return;
        }
        LOG.error(
                "roll file {} ends without an end-of-file marker (truncated, or its writer died mid-record)"
                        + " while later roll files exist; the records after the damage cannot be read; moving on to the"
                        + " next roll file",
                RollFiles.fileFor(queue, current).getName());
        tailer().moveToCycle(later.intValue());
        stuckSinceNanos = 0;
    }

    @Override
    public void close() {
        if (tailer != null) {
            tailer.close();
        }
    }
}
