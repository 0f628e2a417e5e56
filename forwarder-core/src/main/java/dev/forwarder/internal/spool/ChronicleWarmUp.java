package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Chronicle's first append of a roll cycle once per JVM, into a scratch queue that is deleted at once, so
 * that the classes of that path are loaded and its lambdas made at open and not by the first publish (they
 * were most of a first publish's 13 - 23 ms once the roll file was made ahead: {@link RollAhead}). The spool's
 * own queue cannot do it: a record there would be forwarded, and an empty roll file there would hide the
 * spool's last index.
 */
final class ChronicleWarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(ChronicleWarmUp.class);
    private static final AtomicBoolean DONE = new AtomicBoolean();
    /** Inside the spool's directory, so that it needs no other place to write. */
    static final String DIR = "warm-up";
    /** Usable space below which there is no warm-up: its files take a few MB at most. */
    private static final long ROOM = 64L << 20;

    private ChronicleWarmUp() {}

    static void once(Path spoolDir) {
        Path scratch = spoolDir.resolve(DIR);
        if (!DONE.compareAndSet(false, true)) {
            delete(scratch); // one a crashed process left
            return;
        }
        try {
            delete(scratch);
            if (Files.getFileStore(spoolDir).getUsableSpace() < ROOM) {
                return; // a write into a mapped file the disk cannot back is a fault (see Pretoucher)
            }
            try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(scratch)
                            .blockSize(1 << 20)
                            .build();
                    ExcerptAppender appender = queue.createAppender();
                    DocumentContext dc = appender.writingDocument()) {
                dc.wire().bytes().writeLong(0);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Chronicle's warm-up append failed (the first publish loads its classes): {}", e.toString());
        } finally {
            delete(scratch);
        }
    }

    private static void delete(Path scratch) {
        if (!Files.exists(scratch)) {
            return;
        }
        try (Stream<Path> all = Files.walk(scratch)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot delete {}: {}", scratch, e.toString());
        }
    }
}
