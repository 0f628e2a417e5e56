package dev.forwarder;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Why a model stopped generating, as TensorZero records it in {@code model_inference.finish_reason}. */
public enum FinishReason {
    STOP("stop"),
    STOP_SEQUENCE("stop_sequence"),
    LENGTH("length"),
    TOOL_CALL("tool_call"),
    CONTENT_FILTER("content_filter"),
    UNKNOWN("unknown");

    /** The allowed wire values, for error messages: {@code stop|stop_sequence|...}. */
    public static final String ALLOWED =
            Arrays.stream(values()).map(FinishReason::wireName).collect(Collectors.joining("|"));

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    @JsonCreator
    public static FinishReason fromWireName(String value) {
        for (FinishReason reason : values()) {
            if (reason.wireName.equals(value)) {
                return reason;
            }
        }
        throw new IllegalArgumentException("finish_reason must be one of " + ALLOWED + ", got \"" + value + "\"");
    }
}
