package dev.forwarder.internal.spool;

import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;

/** Damage done to a spool by tests, so that tests outside this package need not touch Chronicle. */
public final class SpoolDamage {

    private SpoolDamage() {}

    /**
     * Appends a document that is not a spool record (it fails the layout check); returns its index. As a record
     * damaged on the disk after the spool appended it, its cycle is marked as any append's.
     */
    public static long appendGarbage(Spool spool, byte[] bytes) {
        spool.markBeforeAppend();
        try (ExcerptAppender raw = spool.queue().createAppender()) {
            try (DocumentContext dc = raw.writingDocument()) {
                dc.wire().bytes().write(bytes);
            }
            return raw.lastIndexAppended();
        }
    }
}
