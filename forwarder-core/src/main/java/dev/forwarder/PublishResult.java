package dev.forwarder;

/**
 * What {@link Forwarder#publish} did with a record. Errors on the request path are values, not exceptions:
 * every offered record is either in the spool ({@link #accepted()}) or counted as dropped with a reason.
 *
 * @param status     what happened
 * @param spoolIndex the record's position in the spool when it was appended, else -1
 * @param detail     for drops and time-outs, a human-readable reason (never contains the record); else null
 */
public record PublishResult(Status status, long spoolIndex, String detail) {

    /** The outcome of one publish. */
    public enum Status {
        /** Appended to the spool; the forwarder will deliver it (async_writes = true). */
        ACCEPTED(true),
        /** Appended and acknowledged by Kafka before publish returned (async_writes = false). */
        ACKNOWLEDGED(true),
        /**
         * Appended, but Kafka had not acknowledged it within request_timeout_ms (async_writes = false).
         * The record stays in the spool and will be delivered; it is not dropped.
         */
        TIMED_OUT(true),
        /** Not appended: the spool is at its size bound or the disk is (nearly) full. */
        DROPPED_SPOOL_FULL(false),
        /** Not appended: the record could not be serialised, or the JSON given is not one object. */
        DROPPED_SERIALIZATION_ERROR(false),
        /**
         * Not appended: the record is larger than its topic takes ({@code max.message.bytes}, learned from the
         * cluster, or the producer's {@code max.request.size}), so it could never be delivered.
         */
        DROPPED_TOO_LARGE(false),
        /** Not appended: gateway.observability.enabled or kafka.enabled is false. */
        DROPPED_DISABLED(false),
        /** Not appended: the forwarder is closing or closed. */
        DROPPED_CLOSED(false),
        /** Not appended: the spool could not be written (an I/O fault). */
        DROPPED_IO_ERROR(false),
        /** Appended, then rejected by Kafka for good and moved to the dead-letter spool (sync mode only). */
        DEAD_LETTERED(true),
        /**
         * Appended, then discarded unforwarded to make room ({@code on_full = drop_oldest}), or refused for
         * good by Kafka when the dead-letter spool could not take it (sync mode only). Counted as lost.
         */
        LOST(true),
        /** Appended, then found corrupt in the spool, skipped and quarantined (sync mode only). */
        CORRUPT(true);

        private final boolean inSpool;

        Status(boolean inSpool) {
            this.inSpool = inSpool;
        }

        /** Whether a record with this status was appended to the spool. */
        public boolean inSpool() {
            return inSpool;
        }
    }

    /** True if the record is in the spool (it will be, or was, delivered or dead-lettered). */
    public boolean accepted() {
        return status.inSpool();
    }

    /** True if the record was not appended and is counted as dropped. */
    public boolean dropped() {
        return !status.inSpool();
    }
}
