package dev.forwarder.internal.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.forwarder.ChatInference;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * A record's message key: the first present, non-empty string among the top-level fields {@code id},
 * {@code inference_id}, {@code episode_id}, {@code target_id}; with none, no key (null), never "". Found when
 * the record is published (the request path uses {@link KeyScanner}, which falls back to {@link
 * #keyOf(byte[])}), kept with the record in the spool, and used as the Kafka message key.
 */
public final class MessageKeys {

    /** Key fields, in order of precedence. */
    public static final List<String> KEY_FIELDS = List.of("id", "inference_id", "episode_id", "target_id");

    private static final JsonFactory JSON = new JsonFactory();

    private MessageKeys() {}

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
}
