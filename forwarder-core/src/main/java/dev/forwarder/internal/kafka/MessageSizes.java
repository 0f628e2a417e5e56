package dev.forwarder.internal.kafka;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How large a message Kafka takes, per topic, as the cluster says ({@code max.message.bytes} of each topic,
 * which is the broker's {@code message.max.bytes} unless the topic sets its own), learned by the start-up
 * check. From it: the producer's {@code max.request.size} (large enough for the largest topic's messages,
 * unless the user set it under {@code kafka.producer}), and the largest record {@code publish} accepts, so
 * that a record that can never be delivered is refused when it is offered, not accepted and dead-lettered
 * later. Until the cluster has been asked (a broker down at start), Kafka's defaults hold: 1 MiB.
 * Thread-safe: the forwarder thread learns, publishers read.
 */
public final class MessageSizes {

    /** Kafka's default {@code max.request.size} and, within 12 bytes, {@code message.max.bytes}. */
    static final int KAFKA_DEFAULT = 1 << 20;

    /**
     * Bytes of a message besides its key and value, kept free: the record batch header (61), the record's own
     * (up to 21), the length prefix (12), and our three headers ({@code data_type}, {@code source_id},
     * {@code spool_index}: under 120), rounded up.
     */
    public static final int FRAMING_BYTES = 512;

    private final int userMaxRequestSize;
    private final AtomicIntegerArray topicMax = new AtomicIntegerArray(DataType.values().length);
    private final ForwarderConfig.Kafka kafka;

    public MessageSizes(ForwarderConfig.Kafka kafka) {
        this.kafka = kafka;
        String configured = kafka.producer().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        int user = -1;
        if (configured != null) {
            try {
                user = Integer.parseInt(configured.trim());
            } catch (NumberFormatException e) {
                // the producer refuses it, naming the key, when it is built
            }
        }
        this.userMaxRequestSize = user;
        for (DataType type : DataType.values()) {
            topicMax.set(type.ordinal(), -1);
        }
    }

    /** The start-up check read {@code max.message.bytes} of {@code type}'s topic. */
    public void learned(DataType type, int maxMessageBytes) {
        topicMax.set(type.ordinal(), maxMessageBytes);
    }

    /** {@code type}'s topic's {@code max.message.bytes}, or Kafka's default until the cluster said. */
    public int topicMaxMessageBytes(DataType type) {
        int learned = topicMax.get(type.ordinal());
        return learned > 0 ? learned : KAFKA_DEFAULT;
    }

    /** The producer's {@code max.request.size}: the user's, else the largest topic's limit (at least 1 MiB). */
    public int maxRequestSize() {
        if (userMaxRequestSize > 0) {
            return userMaxRequestSize;
        }
        int max = KAFKA_DEFAULT;
        for (DataType type : DataType.values()) {
            max = Math.max(max, topicMaxMessageBytes(type));
        }
        return max;
    }

    /** The most bytes of key and JSON a record of {@code type} may have and still reach Kafka. */
    public int maxRecordBytes(DataType type) {
        return Math.min(topicMaxMessageBytes(type), maxRequestSize()) - FRAMING_BYTES;
    }

    /** Why a record of {@code bytes} is refused: the limit and where it comes from, for the caller. */
    public String tooLarge(DataType type, long bytes) {
        int topic = topicMaxMessageBytes(type);
        int request = maxRequestSize();
        String source = topic <= request
                ? "topic " + kafka.topic(type) + "'s max.message.bytes is " + topic
                        + (topicMax.get(type.ordinal()) > 0 ? "" : " (Kafka's default; the cluster was not asked yet)")
                : "the producer's max.request.size (gateway.observability.kafka.producer) is " + request;
        return "the record is " + bytes + " bytes with its key; Kafka takes at most " + maxRecordBytes(type) + " ("
                + source + ", less " + FRAMING_BYTES + " for the message's framing)";
    }
}
