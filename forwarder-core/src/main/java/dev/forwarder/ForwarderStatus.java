package dev.forwarder;

import java.util.Map;

/**
 * A snapshot of the forwarder, for programs and the status command. Counts are of this process since it
 * started, except {@code backlog} and {@code checkpoint}, which are read from the spool.
 *
 * <p>Accounting: {@code offered = appended + dropped} (all reasons), always. Across the spool,
 * {@code appended = delivered + deadLettered + corrupt + lost + backlog} once the spool starts empty.
 *
 * @param state         the forwarder thread's state
 * @param offered       records handed to publish
 * @param appended      records appended to the spool
 * @param dropped       records not appended, by reason (every reason present, zeros included)
 * @param delivered     records acknowledged by Kafka
 * @param deadLettered  records Kafka rejected for good, moved to the dead-letter spool
 * @param corrupt       spool records skipped because their checksum or layout was bad
 * @param lost          spooled records discarded unforwarded to make room ({@code on_full = drop_oldest})
 * @param backlog       records in the spool after the checkpoint (not yet acknowledged)
 * @param checkpoint    the spool index up to which everything is acknowledged, or -1 for none yet
 * @param inFlight      records sent to Kafka and not yet acknowledged
 * @param lastError     the last delivery error, or null
 */
public record ForwarderStatus(
        State state,
        long offered,
        long appended,
        Map<PublishResult.Status, Long> dropped,
        long delivered,
        long deadLettered,
        long corrupt,
        long lost,
        long backlog,
        long checkpoint,
        int inFlight,
        String lastError) {

    /** The forwarder thread's states; transitions are logged once each. */
    public enum State {
        /** Checking the cluster and topics before forwarding. */
        CONNECTING,
        /** Reading the spool and producing. */
        FORWARDING,
        /** A send failed; waiting for in-flight records to settle, then resending from the first unacknowledged. */
        BACKING_OFF,
        /** Closing: forwarding what is spooled until the backlog is empty or the drain time-out. */
        DRAINING,
        /** Stopped; the checkpoint is persisted. */
        CLOSED,
        /** Kafka is disabled in the configuration: records are dropped as DROPPED_DISABLED. */
        DISABLED,
        /** An append-only process ({@link Forwarder#startAppender}): another process forwards the spool. */
        APPENDING,
        /**
         * {@code delivery = exactly_once}: another forwarder with this spool's transactional id (a copy of the
         * spool) took over, and Kafka fenced this one. It forwards nothing more; records stay in the spool.
         * {@code lastError} says so.
         */
        FENCED
    }

    /** Sum of all drop reasons. */
    public long droppedTotal() {
        return dropped.values().stream().mapToLong(Long::longValue).sum();
    }
}
