package dev.forwarder.internal.spool;

import dev.forwarder.ForwarderConfig;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;

/**
 * How much time one roll file of a spool covers: the configured {@code spool.roll_cycle}, or one second,
 * which only tests ask for (retention and damaged-file tests need many files quickly). Chronicle's roll cycle
 * for it stays inside this package.
 */
public enum RollPeriod {
    SECONDLY(TestRollCycles.TEST_SECONDLY),
    FIVE_MINUTELY(RollCycles.FIVE_MINUTELY),
    HOURLY(RollCycles.FAST_HOURLY),
    DAILY(RollCycles.FAST_DAILY);

    private final RollCycle chronicle;

    RollPeriod(RollCycle chronicle) {
        this.chronicle = chronicle;
    }

    RollCycle chronicle() {
        return chronicle;
    }

    /** The period of a configured roll cycle. */
    public static RollPeriod of(ForwarderConfig.RollCycle configured) {
        return switch (configured) {
            case HOURLY -> HOURLY;
            case DAILY -> DAILY;
            case FIVE_MINUTELY -> FIVE_MINUTELY;
        };
    }
}
