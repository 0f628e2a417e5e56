package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.RollFiles;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.SpoolReader;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code on_full = drop_oldest}: publishers that found the spool full ask for room ({@link #request}, any
 * thread); at its next duty cycle, between transactions, the forwarder discards the oldest roll file if a
 * fresh measurement still finds no room for the largest record asked for (many publishers may have asked for
 * the same need). One file per request. The file's unforwarded records are counted lost, those already
 * acknowledged delivered; the checkpoint moves past the file, and the reader only moves if it was behind.
 */
final class RoomMaker {

    private static final Logger LOG = LoggerFactory.getLogger(RoomMaker.class);

    private final SpaceGuard space;
    private final RollFiles rollFiles;
    private final Checkpoint checkpoint;
    private final SpoolReader reader;
    private final Settler settler;
    private volatile boolean requested;
    /** The largest record that publishers asked room for since the last discard decision. */
    private final AtomicInteger needed = new AtomicInteger();

    RoomMaker(SpaceGuard space, RollFiles rollFiles, Checkpoint checkpoint, SpoolReader reader, Settler settler) {
        this.space = space;
        this.rollFiles = rollFiles;
        this.checkpoint = checkpoint;
        this.reader = reader;
        this.settler = settler;
    }

    /**
     * At start, before forwarding: a discard that a crash interrupted after its file was deleted and before its
     * records were counted and the checkpoint moved past them is finished now, so that they are counted lost
     * once (the process that deleted the file took its count with it).
     */
    void finishInterruptedDiscard() {
        RollFiles.Interrupted d = rollFiles.interruptedDiscard();
        if (d == null) {
            return;
        }
        long cp = checkpoint.read();
        if (cp < d.nextIndex() - 1) {
            LOG.warn(
                    "roll file {} was discarded to make room (on_full = drop_oldest) just before the process ended:"
                            + " its {} unforwarded records are counted lost now",
                    d.file(),
                    d.lost());
            settle(d.firstIndex(), d.nextIndex(), cp, d.lost());
        } else {
            rollFiles.discardSettled(); // the bookkeeping was done
        }
    }

    /** The records of a discarded file are counted, the checkpoint moves past it, and the discard's note goes. */
    private void settle(long firstIndex, long nextIndex, long cp, long lost) {
        settler.discarded(Math.max(cp + 1, firstIndex), nextIndex, lost);
        settler.advance(nextIndex - 1);
        rollFiles.discardSettled();
    }

    /** A publisher found the spool full: room for a record of {@code bytes}, please. Any thread. */
    void request(int bytes) {
        needed.accumulateAndGet(bytes, Math::max);
        requested = true;
    }

    /** Whether a publisher asked for room since the last discard decision. */
    boolean requested() {
        return requested;
    }

    /** Whether a roll file could be discarded now (there is one besides the newest). Any thread. */
    boolean canDiscard() {
        return rollFiles.canDiscard();
    }

    /** Discards the oldest roll file if room was asked for, the delivery is at a boundary and it is still needed. */
    int makeRoomIfAsked(Delivery delivery) {
        if (!requested || !delivery.atBoundary()) {
            return 0;
        }
        requested = false;
        int need = needed.getAndSet(0);
        space.measure();
        if (space.admits(need)) {
            return 0; // another discard, or retention, made room meanwhile
        }
        long cp = checkpoint.read();
        RollFiles.Discarded d = rollFiles.oldestDiscardable(cp);
        if (d == null) {
            return 0;
        }
        long lost = d.unsettled() - delivery.forgetBefore(d.nextIndex());
        rollFiles.discard(d, lost);
        settle(d.firstIndex(), d.nextIndex(), cp, lost);
        reader.skipTo(d.nextIndex());
        space.measure();
        LOG.warn(
                "spool full (on_full = drop_oldest): discarded roll file {} with {} unforwarded records",
                d.file(),
                lost);
        return 1;
    }
}
