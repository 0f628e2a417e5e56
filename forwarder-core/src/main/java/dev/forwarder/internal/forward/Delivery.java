package dev.forwarder.internal.forward;

/**
 * The delivery mode, the one thing the two modes do differently: how records read from the spool become
 * Kafka writes and when they count as settled. {@link AtLeastOnceDelivery} sends each record on its own and
 * settles it at its acknowledgement; {@link ExactlyOnceDelivery} sends records in Kafka transactions that carry
 * the spool position and settles them at the commit. Everything else (states, the producer's connection, the
 * counts, the checkpoint's upkeep, making room, the drain) is the agent's and its other parts', written once.
 *
 * <p>Each method returns what it came to ({@link Outcome}); none changes the agent's state. Forwarder thread
 * only.
 */
interface Delivery {

    /** A new producer is ready (the connection has one): start using it. READY, or why not. */
    Outcome start(long nowNanos);

    /** FORWARDING: read, send, commit. */
    Outcome step(long nowNanos, boolean draining);

    /** BACKING_OFF, once the back-off has passed: make ready again (a new producer if need be) and resend. */
    Outcome recover(long nowNanos);

    /** Counts what completed since the last call and moves the checkpoint over it; returns how many settled. */
    int settle();

    /** The reader met corrupt record {@code index}: it settles in its turn, as corrupt. */
    void corrupt(long index, long nowNanos);

    /** Whether the spool may lose a roll file now (drop_oldest): no Kafka transaction is open. */
    boolean atBoundary();

    /**
     * The spool is full and room must be made (drop_oldest), but {@link #atBoundary} is false: give up what
     * is open so that it can be (exactly_once: abandon the transaction, whose records go again later, in a
     * new one). What that came to; {@link Outcome#IDLE} if there was nothing to give up.
     */
    Outcome yieldForRoom(long nowNanos);

    /**
     * A roll file up to {@code nextIndex} (exclusive) was discarded to make room: forget its records (read and
     * not settled). Those already acknowledged or corrupt are counted here.
     *
     * @return how many of the forgotten records were counted here (the rest are lost)
     */
    long forgetBefore(long nextIndex);

    /** Records read and not yet settled. */
    int inFlight();

    /** Caught up with the spool and nothing in flight: a drain may end. */
    boolean drained();

    /** Sends are waiting for acknowledgements that closing the producer gently could still bring. */
    boolean awaitsAcknowledgements();

    /** At close, before the producer closes: end an open transaction. */
    void close();
}
