package dev.forwarder;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Jackson reads a JSON {@code null} into a {@link JsonNode} field as {@code NullNode}, while an absent field
 * stays Java {@code null}. Both are written as {@code null}; records hold Java {@code null} for both so that
 * a record read back from its own JSON equals the original.
 */
final class JsonNulls {

    private JsonNulls() {}

    static <T extends JsonNode> T absentIfNull(T node) {
        return node == null || node.isNull() ? null : node;
    }
}
