package dev.forwarder.internal.forward;

import dev.forwarder.DataType;

/**
 * What the forwarder tells the metrics. {@link #acknowledged} and {@link #failed} run on the producer's I/O
 * thread, once per record; the others on the forwarder thread. All must be quick and must not throw; each does
 * nothing unless overridden.
 */
public interface DeliveryObserver {

    /** Kafka acknowledged a record of {@code type}, {@code nanos} after it was handed to the producer. */
    default void acknowledged(DataType type, long nanos) {}

    /** A send of a record of {@code type} failed (it will be retried, or dead-lettered if permanent). */
    default void failed(DataType type, Exception error) {}

    /** A send of a record of {@code type} was refused because of its topic (ACL, name); it will be retried. */
    default void topicRefused(DataType type) {}

    /** {@code count} new connections to the cluster were made. */
    default void connectionsEstablished(long count) {}

    /** {@code count} connection failures: the cluster was lost or could not be reached, or refused our credentials. */
    default void connectionErrors(long count) {}

    /** A record was found corrupt in the spool and skipped. */
    default void corrupt() {}

    /** A record was moved to the dead-letter spool. */
    default void deadLettered() {}

    /** {@code count} dead letters were deleted, older than {@code spool.dead_letter.retain}. */
    default void deadLettersExpired(long count) {}

    /** {@code count} spooled records were discarded unforwarded to make room (on_full = drop_oldest). */
    default void lost(long count) {}

    /** {@code delivery = exactly_once}: a transaction committed, {@code nanos} after it began. */
    default void transactionCommitted(long nanos) {}

    /** {@code delivery = exactly_once}: a transaction was aborted (its records are sent again). */
    default void transactionAborted() {}

    /** An error on the forwarder thread (a bug, or a fault of the spool): forwarding backed off and went on. */
    default void forwarderError() {}

    /** Tells nobody. */
    DeliveryObserver NONE = new DeliveryObserver() {};
}
