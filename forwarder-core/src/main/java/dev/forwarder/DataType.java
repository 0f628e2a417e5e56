package dev.forwarder;

import java.util.Arrays;
import java.util.Optional;

/**
 * The three kinds of inference record, each written to its own topic {@code {topic_prefix}_{data_type}}.
 *
 * <p>The wire names are TensorZero's: they are the topic suffixes, the {@code data_type} message header,
 * the {@code {data_type}} of the HTTP ingest path and the values of the {@code data_type} metric label.
 */
public enum DataType {
    /** One call to a model provider: raw request and response, tokens, latency. */
    MODEL_INFERENCE("model_inference"),
    /** One inference of a chat function. */
    CHAT_INFERENCE("chat_inference"),
    /** One inference of a JSON function. */
    JSON_INFERENCE("json_inference");

    private final String wireName;

    DataType(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in topics, headers, URLs and metric labels, e.g. {@code chat_inference}. */
    public String wireName() {
        return wireName;
    }

    /** The topic this data type is written to: {@code {topicPrefix}_{wireName}}. */
    public String topic(String topicPrefix) {
        return topicPrefix + "_" + wireName;
    }

    /** The data type with this wire name, if there is one. */
    public static Optional<DataType> fromWireName(String wireName) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(wireName)).findFirst();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
