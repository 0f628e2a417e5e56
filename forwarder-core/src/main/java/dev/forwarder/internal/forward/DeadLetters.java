package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

/**
 * The dead-letter spool: records Kafka refused for good, each with the reason, in the main spool's layout
 * (the reason is the record's note). It has a bound of its own ({@code spool.dead_letter.max_bytes}, beside
 * the spool's, which it never eats into) and a free-space guard, measured before each write (dead letters are
 * rare; the measurement is a directory walk); its files are deleted once older than
 * {@code spool.dead_letter.retain}, the records they held counted as expired.
 *
 * <p>A write that fails (the bound, a full disk, an I/O fault) never stalls forwarding: the caller counts
 * the record as lost, with the reason, because Kafka will never take it and there is nowhere left to keep
 * it. Called by the forwarder thread only.
 *
 * <p>A dead letter's note says where the record came from, so that {@code redrive} can send it with its
 * original headers: a first line {@code source_id=<uuid> spool_index=<n>}, then the reason.
 */
public final class DeadLetters {

    /** Where a dead letter came from (null and -1 for dead letters written before notes carried it). */
    public record Origin(UUID sourceId, long spoolIndex, String reason) {}

    static String note(UUID sourceId, long spoolIndex, String reason) {
        return "source_id=" + sourceId + " spool_index=" + spoolIndex + "\n" + reason;
    }

    /** Reads a dead letter's note. */
    public static Origin origin(String note) {
        if (note != null && note.startsWith("source_id=")) {
            int end = note.indexOf('\n');
            String first = end < 0 ? note : note.substring(0, end);
            String[] parts = first.split(" ");
            if (parts.length == 2 && parts[1].startsWith("spool_index=")) {
                try {
                    return new Origin(
                            UUID.fromString(parts[0].substring("source_id=".length())),
                            Long.parseLong(parts[1].substring("spool_index=".length())),
                            end < 0 ? "" : note.substring(end + 1));
                } catch (IllegalArgumentException e) {
                    // not ours: the whole note is the reason
                }
            }
        }
        return new Origin(null, -1, note);
    }

    private final Spool spool;
    private final SpaceGuard space;
    private final RollFiles rollFiles;

    /** @param retain how long a dead letter is kept ({@code spool.dead_letter.retain}) */
    DeadLetters(Spool spool, SpaceGuard space, Duration retain) {
        this.spool = spool;
        this.space = space;
        this.rollFiles = new RollFiles(spool, retain);
    }

    /** Deletes the dead-letter files older than the retention; returns how many dead letters they held. */
    long expire(long nowMs) {
        long expired = rollFiles.deleteExpired(nowMs);
        if (expired > 0) {
            space.measure();
        }
        return expired;
    }

    /** Writes a dead letter; returns null, or why it could not be written. */
    String write(SpoolRecord.Entry entry, UUID sourceId, String reason) {
        byte[] note = note(sourceId, entry.index(), reason).getBytes(StandardCharsets.UTF_8);
        int size = spool.encodedSize(entry.keyBytes(), entry.payload(), note);
        try {
            space.refresh();
            if (!space.admits(size)) {
                return "the dead-letter spool " + spool.dir() + " is full (spool.dead_letter.max_bytes, or its disk)";
            }
            spool.append(entry.type(), entry.appendTimeMs(), entry.keyBytes(), entry.payload(), note);
            space.appended(size);
            return null;
        } catch (RuntimeException | InternalError e) {
            // A mapped write on a full disk faults with InternalError.
            return "cannot write the dead-letter spool " + spool.dir() + ": " + e;
        }
    }
}
