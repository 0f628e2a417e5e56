package dev.forwarder.internal.forward;

import java.util.concurrent.TimeUnit;

/** Exponential back-off for the forwarder thread: 100 ms doubling to 5 s, reset by progress. Not thread-safe. */
final class Backoff {

    static final long INITIAL_MS = 100;
    static final long MAX_MS = 5_000;

    private long delayMs = INITIAL_MS;
    private long nextNanos;

    /** Whether the wait scheduled last has passed. */
    boolean due(long nowNanos) {
        return nowNanos - nextNanos >= 0;
    }

    /** Schedules the next attempt after the current delay, doubles the delay, and returns the delay used. */
    long schedule(long nowNanos) {
        long used = delayMs;
        nextNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(used);
        delayMs = Math.min(delayMs * 2, MAX_MS);
        return used;
    }

    void reset() {
        delayMs = INITIAL_MS;
    }
}
