package dev.forwarder.testkit;

import dev.forwarder.DataType;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** Synthetic inference records of about 1 KB, keyed by their id, for delivery tests and benchmarks. */
public final class Records {

    private static final String FILLER = "The quick brown fox jumps over the lazy dog. ".repeat(16);

    private Records() {}

    /** A distinct id per (run, sequence number), readable in failure messages. */
    public static String id(UUID run, long seq) {
        return new UUID(run.getMostSignificantBits(), seq).toString();
    }

    /** The type record {@code seq} gets: the three types in turn. */
    public static DataType typeOf(long seq) {
        return DataType.values()[(int) (seq % 3)];
    }

    /** A ~1 KB JSON record of {@code type} with id {@code id}. */
    public static byte[] json(DataType type, String id) {
        String body = switch (type) {
            case MODEL_INFERENCE ->
                "\"inference_id\":\"" + id + "\",\"raw_request\":\"" + FILLER
                        + "\",\"raw_response\":\"ok\",\"model_name\":\"gpt-4\",\"model_provider_name\":\"openai\","
                        + "\"input_tokens\":100,\"output_tokens\":200,\"response_time_ms\":500,\"cached\":false";
            case CHAT_INFERENCE ->
                "\"function_name\":\"chat\",\"variant_name\":\"a\",\"episode_id\":\"" + id
                        + "\",\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"" + FILLER + "\"}]},"
                        + "\"output\":[{\"type\":\"text\",\"text\":\"ok\"}],\"processing_time_ms\":12,\"tags\":{}";
            case JSON_INFERENCE ->
                "\"function_name\":\"extract\",\"variant_name\":\"a\",\"episode_id\":\"" + id
                        + "\",\"input\":{\"messages\":[{\"role\":\"user\",\"content\":\"" + FILLER + "\"}]},"
                        + "\"output\":{\"raw\":\"{}\",\"parsed\":{}},\"processing_time_ms\":12,\"tags\":{}";
        };
        return ("{\"id\":\"" + id + "\"," + body + "}").getBytes(StandardCharsets.UTF_8);
    }
}
