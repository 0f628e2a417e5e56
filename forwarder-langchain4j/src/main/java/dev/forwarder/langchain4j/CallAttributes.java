package dev.forwarder.langchain4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a call's listener attributes say, with the defaults: the TensorZero function and variant, the
 * episode, the tags, and the timings the listener measured (request to response; to the first token of a
 * stream it watched).
 *
 * @param tags      null when the call has none
 * @param elapsedMs null when the listener did not see the request
 * @param ttftMs    null unless the call was a stream the listener watched
 */
record CallAttributes(
        String function, String variant, UUID episode, Map<String, String> tags, Long elapsedMs, Long ttftMs) {

    private static final Logger LOG = LoggerFactory.getLogger(CallAttributes.class);

    /** Attribute keys private to the listener (not strings, so no application key can collide). */
    static final Object STARTED_NANOS = new Object();

    static final Object FIRST_TOKEN = new Object();

    /**
     * @param defaultFunction the listener's function, unless the call says another
     * @param modelName       the variant, unless the call says another
     * @param nowNanos        when the response came
     * @param ids             a new episode id when the call names none (or a bad one)
     */
    static CallAttributes of(
            Map<Object, Object> attributes,
            String defaultFunction,
            String modelName,
            long nowNanos,
            Supplier<UUID> ids) {
        Long elapsedMs = null;
        Long ttftMs = null;
        if (attributes.get(STARTED_NANOS) instanceof Long started) {
            elapsedMs = (nowNanos - started) / 1_000_000;
            if (attributes.get(FIRST_TOKEN) instanceof FirstTokenWatch watch && watch.firstNanos() != 0) {
                ttftMs = (watch.firstNanos() - started) / 1_000_000;
            }
        }
        return new CallAttributes(
                text(attributes, ForwardingChatModelListener.FUNCTION_NAME).orElse(defaultFunction),
                text(attributes, ForwardingChatModelListener.VARIANT_NAME).orElse(modelName),
                episode(attributes, ids),
                tags(attributes),
                elapsedMs,
                ttftMs);
    }

    private static Optional<String> text(Map<Object, Object> attributes, String key) {
        return attributes.get(key) instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    private static UUID episode(Map<Object, Object> attributes, Supplier<UUID> ids) {
        Object value = attributes.get(ForwardingChatModelListener.EPISODE_ID);
        if (value instanceof UUID id) {
            return id;
        }
        if (value != null) {
            try {
                return UUID.fromString(value.toString());
            } catch (IllegalArgumentException e) {
                LOG.warn(
                        "listener attribute {} is not a UUID ({}); the call is recorded in a new episode",
                        ForwardingChatModelListener.EPISODE_ID,
                        e.getMessage());
            }
        }
        return ids.get();
    }

    private static Map<String, String> tags(Map<Object, Object> attributes) {
        if (!(attributes.get(ForwardingChatModelListener.TAGS) instanceof Map<?, ?> tags) || tags.isEmpty()) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        tags.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }
}
