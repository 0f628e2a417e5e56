package dev.forwarder;

/**
 * What {@link Forwarder#replay} sent.
 *
 * @param sent    records sent to Kafka again and acknowledged
 * @param corrupt records in the range that could not be read (skipped, and logged with their index)
 */
public record ReplayResult(long sent, long corrupt) {}
