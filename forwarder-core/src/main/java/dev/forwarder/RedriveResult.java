package dev.forwarder;

/**
 * What {@link Forwarder#redrive} did with the dead-letter spool.
 *
 * @param selected  dead letters that matched the filters and were sent again
 * @param delivered of those, acknowledged by Kafka and removed from the dead-letter spool
 * @param refused   of those, refused by Kafka again (they stay, with their first reason)
 * @param remaining dead letters in the dead-letter spool afterwards
 */
public record RedriveResult(long selected, long delivered, long refused, long remaining) {}
