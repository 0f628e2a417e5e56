package dev.forwarder.internal.json;

/**
 * A record that cannot be accepted: not one JSON object, or a field of the wrong type. The message names
 * the data type and the field, e.g. {@code chat_inference field "episode_id": expected a UUID string}.
 */
public final class InvalidEventException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidEventException(String message, String field) {
        super(message);
        this.field = field;
    }

    /** The JSON path of the bad field ({@code output.raw}, {@code tags.env}), or null for the whole record. */
    public String field() {
        return field;
    }
}
