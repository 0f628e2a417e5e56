package dev.forwarder;

import java.util.Map;

/**
 * One inference record, as the gateway writes it: a {@link ModelInference}, a {@link ChatInference} or a
 * {@link JsonInference}.
 *
 * <p>Records are plain Jackson-serialisable values with TensorZero's snake_case field names. Every known
 * field is always written, {@code null} as {@code null}, so all messages of a topic have the same columns.
 * Fields this version does not know are kept in {@link #extraFields()} and written back unchanged, so a
 * newer gateway's columns are not lost on the way through.
 */
public sealed interface InferenceRecord permits ModelInference, ChatInference, JsonInference {

    /** Which topic the record belongs to. */
    DataType dataType();

    /** Fields not known to this version, in the order they were read; never null. */
    Map<String, Object> extraFields();
}
