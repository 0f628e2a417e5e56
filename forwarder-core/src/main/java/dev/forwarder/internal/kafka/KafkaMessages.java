package dev.forwarder.internal.kafka;

import dev.forwarder.DataType;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The shape of every Kafka message the forwarder writes.
 *
 * <ul>
 *   <li>Topic: {@code {topic_prefix}_{data_type}}.
 *   <li>Key: the first present, non-empty string among the top-level fields {@code id},
 *       {@code inference_id}, {@code episode_id}, {@code target_id}; with none, no key (null), never ""
 *       ({@link dev.forwarder.internal.json.MessageKeys}, found when the record is published).
 *   <li>Value: the record as one UTF-8 JSON object, byte for byte as it was spooled.
 *   <li>Headers (UTF-8 text): {@code data_type}; {@code source_id}, the spool's stable UUID; and
 *       {@code spool_index}, the record's position in that spool in decimal. The pair
 *       (source_id, spool_index) is unique per record and the same on every redelivery, so a consumer can
 *       drop the duplicates that at-least-once delivery allows after a crash.
 *   <li>With the trace context the publishing thread had ({@code forwarder.tracing.propagate}, OpenTelemetry
 *       on the class path and a valid current span): W3C's {@code traceparent}, and {@code tracestate} when
 *       it is not empty, as OpenTelemetry's own Kafka instrumentation names them.
 * </ul>
 */
public final class KafkaMessages {

    public static final String HEADER_DATA_TYPE = "data_type";
    public static final String HEADER_SOURCE_ID = "source_id";
    public static final String HEADER_SPOOL_INDEX = "spool_index";
    public static final String HEADER_TRACEPARENT = "traceparent";
    public static final String HEADER_TRACESTATE = "tracestate";

    private static final Header[] DATA_TYPE_HEADERS = Arrays.stream(DataType.values())
            .map(t -> header(HEADER_DATA_TYPE, t.wireName()))
            .toArray(Header[]::new);

    private KafkaMessages() {}

    /**
     * The message of a spool record: its bytes and key, its data type's header, {@code sourceId}'s header and
     * {@code spoolIndex} (the record's index, or for a dead letter the index it had in its spool).
     */
    public static ProducerRecord<byte[], byte[]> of(
            SpoolRecord.Entry entry, String topic, Header sourceId, long spoolIndex) {
        Header type = DATA_TYPE_HEADERS[entry.type().ordinal()];
        Header index = new RecordHeader(HEADER_SPOOL_INDEX, decimal(spoolIndex));
        String trace = entry.trace();
        Header[] headers;
        if (trace == null) {
            headers = new Header[] {type, sourceId, index};
        } else {
            int nl = trace.indexOf('\n');
            String parent = nl < 0 ? trace : trace.substring(0, nl);
            String state = nl < 0 ? "" : trace.substring(nl + 1);
            headers = state.isEmpty()
                    ? new Header[] {type, sourceId, index, header(HEADER_TRACEPARENT, parent)}
                    : new Header[] {
                        type, sourceId, index, header(HEADER_TRACEPARENT, parent), header(HEADER_TRACESTATE, state)
                    };
        }
        return new ProducerRecord<>(topic, null, null, entry.keyBytes(), entry.payload(), Arrays.asList(headers));
    }

    /** The source_id header of a spool; make it once per spool, not per record. */
    public static Header sourceIdHeader(UUID sourceId) {
        return header(HEADER_SOURCE_ID, sourceId.toString());
    }

    /**
     * {@code Long.toString(v)} as ASCII bytes, without the string between: per record, the string and its
     * encoding were 6% of the forwarder thread in a drain (JFR).
     */
    static byte[] decimal(long v) {
        if (v < 0) {
            return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
        }
        int digits = 1;
        for (long rest = v / 10; rest > 0; rest /= 10) {
            digits++;
        }
        byte[] out = new byte[digits];
        for (int i = digits - 1; i >= 0; i--, v /= 10) {
            out[i] = (byte) ('0' + v % 10);
        }
        return out;
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
