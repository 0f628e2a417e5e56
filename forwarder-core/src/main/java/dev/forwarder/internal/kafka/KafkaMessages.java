package dev.forwarder.internal.kafka;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 *       {@code inference_id}, {@code episode_id}, {@code target_id}; with none, no key (null), never "".
 *   <li>Value: the record as one UTF-8 JSON object, byte for byte as it was spooled.
 *   <li>Headers (UTF-8 text): {@code data_type}; {@code source_id}, the spool's stable UUID; and
 *       {@code spool_index}, the record's position in that spool in decimal. The pair
 *       (source_id, spool_index) is unique per record and the same on every redelivery, so a consumer can
 *       drop the duplicates that at-least-once delivery allows after a crash.
 * </ul>
 */
public final class KafkaMessages {

    public static final String HEADER_DATA_TYPE = "data_type";
    public static final String HEADER_SOURCE_ID = "source_id";
    public static final String HEADER_SPOOL_INDEX = "spool_index";

    /** Key fields, in order of precedence. */
    public static final List<String> KEY_FIELDS = List.of("id", "inference_id", "episode_id", "target_id");

    private static final JsonFactory JSON = new JsonFactory();
    private static final Header[] DATA_TYPE_HEADERS = java.util.Arrays.stream(DataType.values())
            .map(t -> header(HEADER_DATA_TYPE, t.wireName()))
            .toArray(Header[]::new);

    private KafkaMessages() {}

    /** The message for one spooled record. */
    public static ProducerRecord<byte[], byte[]> toProducerRecord(
            String topicPrefix, DataType type, String key, byte[] json, UUID sourceId, long spoolIndex) {
        return toProducerRecord(
                type.topic(topicPrefix),
                type,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                json,
                header(HEADER_SOURCE_ID, sourceId.toString()),
                spoolIndex);
    }

    /** The same, with the parts that do not change per record made once by the caller (the forwarder). */
    public static ProducerRecord<byte[], byte[]> toProducerRecord(
            String topic, DataType type, byte[] key, byte[] json, Header sourceId, long spoolIndex) {
        Header[] headers = {
            DATA_TYPE_HEADERS[type.ordinal()], sourceId, header(HEADER_SPOOL_INDEX, Long.toString(spoolIndex))
        };
        return new ProducerRecord<>(topic, null, null, key, json, java.util.Arrays.asList(headers));
    }

    /** The source_id header of a spool; make it once. */
    public static Header sourceIdHeader(UUID sourceId) {
        return header(HEADER_SOURCE_ID, sourceId.toString());
    }

    /** The key of a typed record, by the same precedence as {@link #keyOf(byte[])}. */
    public static String keyOf(InferenceRecord record) {
        // Java 17: no pattern switch yet; the interface is sealed, so these three are all there is.
        String[] candidates;
        if (record instanceof ModelInference m) {
            candidates = new String[] {text(m.id()), text(m.inferenceId()), null, null};
        } else if (record instanceof ChatInference c) {
            candidates = new String[] {text(c.id()), null, text(c.episodeId()), null};
        } else {
            JsonInference j = (JsonInference) record;
            candidates = new String[] {text(j.id()), null, text(j.episodeId()), null};
        }
        for (int i = 0; i < candidates.length; i++) {
            String value = candidates[i];
            if (value == null) {
                Object extra = record.extraFields().get(KEY_FIELDS.get(i));
                value = extra instanceof String s ? s : null;
            }
            if (value != null && !value.isEmpty()) {
                return value;
            }
        }
        return null;
    }

    /**
     * The key of a record given as JSON: scans the top-level fields only, without building a tree, and
     * stops as soon as a non-empty {@code id} is seen (the usual case: gateways write it first).
     * Returns null for JSON that is not an object or carries none of the key fields.
     */
    public static String keyOf(byte[] json) {
        String[] found = new String[KEY_FIELDS.size()];
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                int slot = KEY_FIELDS.indexOf(parser.currentName());
                JsonToken value = parser.nextToken();
                if (slot >= 0 && value == JsonToken.VALUE_STRING && found[slot] == null) {
                    String text = parser.getText();
                    if (!text.isEmpty()) {
                        if (slot == 0) {
                            return text;
                        }
                        found[slot] = text;
                    }
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            // Malformed JSON: whatever was found before the fault still counts; validation is elsewhere.
        }
        for (String candidate : found) {
            if (candidate != null) {
                return candidate;
            }
        }
        return null;
    }

    private static String text(UUID uuid) {
        return uuid == null ? null : uuid.toString();
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
