package dev.forwarder.internal.spool;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Read-only questions about a spool's records, for tools, metrics and start-up: how many wait after a
 * checkpoint, when the oldest of them was appended, which keys sealed them, every record in order. Each
 * question reads with a tailer of its own, so any thread may ask, whether a forwarder runs on the spool or
 * not; none moves the forwarder's reader or checkpoint.
 */
public final class SpoolQuery {

    private final Spool spool;

    SpoolQuery(Spool spool) {
        this.spool = spool;
    }

    /** What {@link #scan} shows of each record. */
    public interface Visitor {
        /** @return false to stop */
        boolean record(SpoolRecord.Entry entry);

        /** A record that cannot be read: corrupt, or sealed with a key not at hand (the reason says which). */
        void corrupt(long index, String reason);
    }

    /**
     * The keys that sealed the records after {@code afterIndex} ({@link Checkpoint#NONE}: all), with how many
     * each sealed; plain records under {@link SpoolRecord#NOT_SEALED}. Reads only each record's header.
     */
    public Map<Long, Long> sealingKeysAfter(long afterIndex) {
        Map<Long, Long> counts = new TreeMap<>();
        try (ExcerptTailer tailer = spool.queue().createTailer()) {
            if (afterIndex != Checkpoint.NONE && !tailer.moveToIndex(afterIndex)) {
                tailer.toStart();
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return counts;
                    }
                    if (afterIndex != Checkpoint.NONE && dc.index() <= afterIndex) {
                        continue;
                    }
                    counts.merge(SpoolRecord.sealingKey(dc.wire().bytes()), 1L, Long::sum);
                }
            }
        }
    }

    /**
     * Visits every record from the start of the spool, in order, reading only (no quarantine, no
     * checkpoint): for tools that look at a spool whether a forwarder runs on it or not.
     */
    public void scan(Visitor visitor) {
        try (ExcerptTailer tailer = spool.queue().createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return;
                    }
                    SpoolRecord.Entry entry;
                    try {
                        entry = SpoolRecord.decode(dc.index(), dc.wire().bytes(), spool.keys());
                    } catch (SpoolRecord.CorruptRecordException | SpoolRecord.UnknownKeyException e) {
                        visitor.corrupt(dc.index(), e.getMessage());
                        continue;
                    }
                    if (!visitor.record(entry)) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * How many indexes lie after {@code last} up to and including {@code ahead}, for a checkpoint found ahead
     * of the spool: exact within one roll cycle (sequence numbers are dense); across cycles, the records of
     * the checkpoint's cycle up to it (the earlier cycles' share cannot be known any more).
     */
    public long indexGap(long last, long ahead) {
        RollCycle rc = spool.queue().rollCycle();
        if (last >= 0 && rc.toCycle(last) == rc.toCycle(ahead)) {
            return ahead - last;
        }
        return rc.toSequenceNumber(ahead) + 1;
    }

    /** Records after {@code checkpoint} (exclusive) up to the last one appended. */
    public long countAfter(long checkpoint) {
        long last = spool.lastIndex();
        if (last < 0 || last <= checkpoint) {
            return 0;
        }
        SingleChronicleQueue queue = spool.queue();
        RollCycle rc = queue.rollCycle();
        long first = queue.firstIndex();
        long from = checkpoint < first ? first : checkpoint;
        boolean fromIsAfter = checkpoint < first;
        int checkpointCycle = rc.toCycle(from);
        if (!fromIsAfter && !RollFiles.fileFor(queue, checkpointCycle).exists()) {
            // Chronicle counts only from a cycle that has a file: the checkpoint's is gone (an OS crash took it,
            // or it was discarded), so count from the next file's first record.
            Long next = new TreeSet<>(queue.listCyclesBetween(queue.firstCycle(), queue.lastCycle()))
                    .higher((long) checkpointCycle);
            if (next == null) {
                return 0;
            }
            from = rc.toIndex(next.intValue(), 0);
            fromIsAfter = true;
        }
        // countExcerpts(from, to): to exclusive. Within one roll file sequence numbers are dense, and Chronicle
        // answers from the indexes too, but only after making and closing a tailer it does not use (most of a
        // status() call): done here without it.
        long count = (rc.toCycle(from) == rc.toCycle(last) ? last - from : queue.countExcerpts(from, last)) + 1;
        return fromIsAfter ? count : count - 1;
    }

    /**
     * The append time (epoch ms) of the first record after {@code checkpoint}, or -1 if there is none.
     * Reads with a tailer of its own: any thread may call it.
     */
    public long appendTimeAfter(long checkpoint) {
        try (ExcerptTailer tailer = spool.queue().createTailer()) {
            if (checkpoint >= 0 && !tailer.moveToIndex(checkpoint)) {
                tailer.toStart();
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return -1;
                    }
                    if (dc.index() <= checkpoint) {
                        continue;
                    }
                    return SpoolRecord.appendTimeOf(dc.wire().bytes());
                }
            }
        }
    }
}
