package dev.forwarder.internal.forward;

import dev.forwarder.PublishResult;

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

    Settlements NONE = new Settlements() {
        @Override
        public void onCheckpoint(long checkpoint) {}

        @Override
        public void onFate(long index, PublishResult.Status fate) {}

        @Override
        public void onLost(long from, long to) {}
    };
}
