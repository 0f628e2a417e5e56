package dev.forwarder.internal.forward;

/**
 * What a step of the forwarder's work came to, as a value: a {@link Delivery} returns it and only the
 * {@link ForwarderAgent} acts on it (changes state, sets the last error, schedules the back-off), so no part
 * calls back into the agent.
 *
 * @param work    how much was done, for the idle strategy
 * @param error   for {@link Kind#RETRY}, {@link Kind#BACK_OFF} and {@link Kind#FENCED}: the new last error (null:
 *                keep the last one)
 * @param message for {@link Kind#FORWARDING} and {@link Kind#FENCED}: why; for {@link Kind#BACK_OFF}: what failed
 * @param next    for {@link Kind#BACK_OFF}: what happens once the back-off has passed
 */
record Outcome(Kind kind, int work, String error, String message, String next) {

    enum Kind {
        /** Work done (or none), the state stays. */
        WORK,
        /** A producer is ready and the delivery started on it: forwarding (from CONNECTING). */
        READY,
        /** Forwarding again (from BACKING_OFF). */
        FORWARDING,
        /** Not ready yet: say why, try again after the back-off, the state stays. */
        RETRY,
        /** A failure to wait out: back off, then the delivery recovers. */
        BACK_OFF,
        /** Kafka fenced this forwarder: it stops for good. */
        FENCED
    }

    static final Outcome IDLE = new Outcome(Kind.WORK, 0, null, null, null);
    static final Outcome READY_TO_FORWARD = new Outcome(Kind.READY, 1, null, null, null);

    static Outcome work(int work) {
        return work == 0 ? IDLE : new Outcome(Kind.WORK, work, null, null, null);
    }

    static Outcome forwarding(String why) {
        return new Outcome(Kind.FORWARDING, 1, null, why, null);
    }

    static Outcome retry(String error) {
        return new Outcome(Kind.RETRY, 0, error, null, null);
    }

    /**
     * @param error  the cause, or null to keep the last error
     * @param failed what failed ("send failed"), said with the error
     * @param next   what happens after the back-off ("sending the failed records again")
     */
    static Outcome backOff(String error, String failed, String next) {
        return new Outcome(Kind.BACK_OFF, 0, error, failed, next);
    }

    static Outcome fenced(String why) {
        return new Outcome(Kind.FENCED, 0, why, why, null);
    }

    /** The same outcome with {@code more} work added. */
    Outcome plus(int more) {
        return more == 0 ? this : new Outcome(kind, work + more, error, message, next);
    }
}
