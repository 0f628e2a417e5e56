package dev.forwarder.internal.forward;

import dev.forwarder.PublishResult;
import java.util.function.LongConsumer;

/**
 * What the forwarder tells the request path about the fate of spool records, for publishers that wait
 * ({@code async_writes = false}). Called on the forwarder thread; must be quick.
 *
 * <p>Order: every fate of a record other than delivery is told <em>before</em> the checkpoint passes it, so
 * a reader that sees the checkpoint past a record and no fate for it knows Kafka acknowledged it.
 */
public interface Settlements {

    /** Every record up to and including {@code checkpoint} is settled. */
    void onCheckpoint(long checkpoint);

    /**
     * Record {@code index} was settled otherwise than by Kafka's acknowledgement: {@code DEAD_LETTERED},
     * {@code LOST} or {@code CORRUPT}; or {@code ACKNOWLEDGED} for one inside a range told lost.
     */
    void onFate(long index, PublishResult.Status fate);

    /** The records in {@code [from, to)} were discarded unforwarded to make room, except those told otherwise. */
    void onLost(long from, long to);

    /** A settlement of one record: {@link #onFate}. */
    interface Fate {
        void told(long index, PublishResult.Status fate);
    }

    /** A range of records told lost: {@link #onLost}. */
    interface Range {
        void told(long from, long to);
    }

    /** The settlements told to three callbacks (the request path's waiters, wired by the Forwarder). */
    static Settlements of(LongConsumer checkpoint, Fate fate, Range lost) {
        return new Settlements() {
            @Override
            public void onCheckpoint(long cp) {
                checkpoint.accept(cp);
            }

            @Override
            public void onFate(long index, PublishResult.Status status) {
                fate.told(index, status);
            }

            @Override
            public void onLost(long from, long to) {
                lost.told(from, to);
            }
        };
    }

    Settlements NONE = new Settlements() {
        @Override
        public void onCheckpoint(long checkpoint) {}

        @Override
        public void onFate(long index, PublishResult.Status fate) {}

        @Override
        public void onLost(long from, long to) {}
    };
}
