package dev.forwarder.internal.spool;

import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * The clock that decides a spool's roll cycles (Chronicle's time provider): the wall clock, unless a roll
 * file grew past its size first, in which case the clock jumps to the start of the next cycle so that the next
 * append opens a new file. Roll files are so bounded by size as well as by time, and forwarded bytes are
 * deleted a file at a time soon after they are acknowledged, whatever the rate.
 *
 * <p>The jump is a floor, {@code now = max(wall, floor)}, kept in {@code <spool>/roll-floor} and shared by
 * every process that appends to the spool (all of them must roll alike, or one would append to a cycle
 * another has left). The clock never goes back: at open the floor is raised to the newest roll file's cycle
 * (an OS crash can lose the floor file's last write). While files roll by size faster than by time the clock
 * runs ahead of the wall clock, and roll files are named by it; records keep their own append times, and
 * retention goes by the append time of a file's last record, not by its name.
 */
final class RollClock implements AutoCloseable {

    private final LongSupplier wall;
    private final SharedCounter floor;

    RollClock(Path spoolDir, LongSupplier wall) {
        this.wall = wall;
        this.floor = SharedCounter.open(spoolDir.resolve("roll-floor"));
    }

    /** Epoch milliseconds for Chronicle: the wall clock, or the floor if it is ahead. */
    long now() {
        return Math.max(wall.getAsLong(), floor.get());
    }

    /** From now on the clock reads at least {@code epochMillis} (the start of a later cycle). */
    void atLeast(long epochMillis) {
        floor.raiseTo(epochMillis);
    }

    @Override
    public void close() {
        floor.close();
    }
}
