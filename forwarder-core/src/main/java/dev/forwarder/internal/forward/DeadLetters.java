package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;

/**
 * The dead-letter spool: records Kafka refused for good, each with the reason, in the main spool's layout
 * (the reason is the record's note). It has the main spool's bound and free-space guard, measured before
 * each write (dead letters are rare; the measurement is a directory walk).
 *
 * <p>A write that fails (the bound, a full disk, an I/O fault) never stalls forwarding: the caller counts
 * the record as lost, with the reason, because Kafka will never take it and there is nowhere left to keep
 * it. Called by the forwarder thread only.
 */
final class DeadLetters {

    private final Spool spool;
    private final SpaceGuard space;

    DeadLetters(Spool spool, SpaceGuard space) {
        this.spool = spool;
        this.space = space;
    }

    /** Writes a dead letter; returns null, or why it could not be written. */
    String write(SpoolRecord.Entry entry, String reason) {
        byte[] note = reason.getBytes(StandardCharsets.UTF_8);
        int size = SpoolRecord.encodedSize(entry.keyBytes(), entry.payload(), note);
        try {
            space.measure();
            if (!space.admits(size)) {
                return "the dead-letter spool " + spool.dir() + " is full (spool.max_bytes, or its disk)";
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
