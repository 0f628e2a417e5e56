package dev.forwarder.internal.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The columns of TensorZero's {@code ModelInference}, {@code ChatInference} and {@code JsonInference}
 * ClickHouse tables that a JSONEachRow insert ({@code input_format_skip_unknown_fields = 0},
 * {@code input_format_null_as_default = 0}) can refuse, written as data from TensorZero's migrations
 * ({@code crates/tensorzero-core/src/db/clickhouse/migration_manager/migrations/}) so that the next schema
 * change is one edit here. Columns of free-form JSON stored as strings are not listed: any JSON goes.
 *
 * <p>{@link #check} holds a record's JSON tree to them and names the first column that would fail.
 */
public final class ClickHouseSchema {

    /** The ClickHouse types the checks know. */
    public enum Type {
        UUID,
        UINT32,
        STRING,
        BOOL,
        DECIMAL_18_9,
        UINT256,
        ARRAY_STRING,
        MAP_STRING_STRING
    }

    /** One column: its name, type, and whether it is {@code Nullable} (else NULL is refused). */
    public record Column(String name, Type type, boolean nullable) {}

    private static Column col(String name, Type type, boolean nullable) {
        return new Column(name, type, nullable);
    }

    /** The checked columns of each table. */
    public static final Map<DataType, List<Column>> COLUMNS = Map.of(
            DataType.MODEL_INFERENCE,
                    List.of(
                            col("id", Type.UUID, false),
                            col("inference_id", Type.UUID, false),
                            col("raw_request", Type.STRING, false),
                            col("raw_response", Type.STRING, false),
                            col("system", Type.STRING, true),
                            col("input_messages", Type.STRING, false),
                            col("output", Type.STRING, false),
                            col("model_name", Type.STRING, false),
                            col("model_provider_name", Type.STRING, false),
                            col("input_tokens", Type.UINT32, true),
                            col("output_tokens", Type.UINT32, true),
                            col("response_time_ms", Type.UINT32, true),
                            col("ttft_ms", Type.UINT32, true),
                            col("cached", Type.BOOL, false),
                            col("finish_reason", Type.STRING, true),
                            col("provider_cache_read_input_tokens", Type.UINT32, true),
                            col("provider_cache_write_input_tokens", Type.UINT32, true),
                            col("cost", Type.DECIMAL_18_9, true),
                            col("snapshot_hash", Type.UINT256, true)),
            DataType.CHAT_INFERENCE,
                    List.of(
                            col("id", Type.UUID, false),
                            col("function_name", Type.STRING, false),
                            col("variant_name", Type.STRING, false),
                            col("episode_id", Type.UUID, false),
                            col("processing_time_ms", Type.UINT32, true),
                            col("ttft_ms", Type.UINT32, true),
                            col("tags", Type.MAP_STRING_STRING, false),
                            col("dynamic_tools", Type.ARRAY_STRING, false),
                            col("dynamic_provider_tools", Type.ARRAY_STRING, false),
                            col("allowed_tools", Type.STRING, true),
                            col("tool_choice", Type.STRING, true),
                            col("parallel_tool_calls", Type.BOOL, true),
                            col("snapshot_hash", Type.UINT256, true)),
            DataType.JSON_INFERENCE,
                    List.of(
                            col("id", Type.UUID, false),
                            col("function_name", Type.STRING, false),
                            col("variant_name", Type.STRING, false),
                            col("episode_id", Type.UUID, false),
                            col("processing_time_ms", Type.UINT32, true),
                            col("ttft_ms", Type.UINT32, true),
                            col("tags", Type.MAP_STRING_STRING, false),
                            col("snapshot_hash", Type.UINT256, true)));

    static final long UINT32_MAX = 4_294_967_295L;
    private static final BigInteger UINT256_LIMIT = BigInteger.ONE.shiftLeft(256);
    private static final BigDecimal DECIMAL_18_9_LIMIT = BigDecimal.TEN.pow(9);
    private static final Pattern CANONICAL_UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern DECIMAL_INTEGER = Pattern.compile("0|[1-9][0-9]*");

    private ClickHouseSchema() {}

    /**
     * Holds the top-level fields of a record to its table's columns.
     *
     * @return how many of its UUID columns hold a UUID that is not version 7 (a warning: TensorZero derives
     *         {@code timestamp} from a v7 id, so such rows sort as if written at another time)
     * @throws InvalidEventException naming the first field that such an insert would refuse
     */
    public static int check(DataType type, JsonNode record) throws InvalidEventException {
        int nonV7 = 0;
        for (Column column : COLUMNS.get(type)) {
            JsonNode value = record.get(column.name());
            if (value == null) {
                continue; // absent: the column's DEFAULT
            }
            if (value.isNull()) {
                if (!column.nullable()) {
                    throw error(
                            type,
                            column.name(),
                            "is null, but the " + column.name() + " column is not Nullable;"
                                    + " leave the field out for its default");
                }
                continue;
            }
            switch (column.type()) {
                case UUID -> {
                    if (!value.isTextual()
                            || !CANONICAL_UUID.matcher(value.textValue()).matches()) {
                        throw error(
                                type,
                                column.name(),
                                "expected a UUID in its 36-character form" + " (8-4-4-4-12 hex digits)");
                    }
                    if (value.textValue().charAt(14) != '7') {
                        nonV7++;
                    }
                }
                case UINT32 -> uint32(type, column.name(), value);
                case STRING -> {
                    if (!value.isTextual()) {
                        throw error(type, column.name(), "expected a string");
                    }
                }
                case BOOL -> {
                    if (!value.isBoolean()) {
                        throw error(type, column.name(), "expected true or false");
                    }
                }
                case DECIMAL_18_9 -> decimal18x9(type, column.name(), value.isNumber() ? value.decimalValue() : null);
                case UINT256 -> uint256(type, column.name(), value.isTextual() ? value.textValue() : null);
                case ARRAY_STRING -> {
                    if (!value.isArray()) {
                        throw error(type, column.name(), "expected an array of strings");
                    }
                    for (int i = 0; i < value.size(); i++) {
                        if (!value.get(i).isTextual()) {
                            throw error(type, column.name() + "[" + i + "]", "expected a string");
                        }
                    }
                }
                case MAP_STRING_STRING -> {
                    if (!value.isObject()) {
                        throw error(type, column.name(), "expected an object of strings");
                    }
                    var fields = value.fields();
                    while (fields.hasNext()) {
                        var field = fields.next();
                        if (!field.getValue().isTextual()) {
                            throw error(
                                    type,
                                    column.name() + "." + field.getKey(),
                                    "expected a string" + (field.getValue().isNull() ? " (tags cannot be null)" : ""));
                        }
                    }
                }
                default -> throw new IllegalStateException("unchecked type " + column.type());
            }
        }
        return nonV7;
    }

    /**
     * The same rules for the fields of a typed record that its Java types do not already bound, without
     * building JSON (the typed publish path): integers, {@code snapshot_hash}, {@code cost}, tag values, ids.
     *
     * @return how many of its ids are not version 7
     */
    static int checkTyped(InferenceRecord record) throws InvalidEventException {
        DataType type = record.dataType();
        if (record instanceof ModelInference m) {
            uint32(type, "input_tokens", m.inputTokens());
            uint32(type, "output_tokens", m.outputTokens());
            uint32(type, "response_time_ms", m.responseTimeMs());
            uint32(type, "ttft_ms", m.ttftMs());
            uint32(type, "provider_cache_read_input_tokens", m.providerCacheReadInputTokens());
            uint32(type, "provider_cache_write_input_tokens", m.providerCacheWriteInputTokens());
            if (m.cost() != null) {
                decimal18x9(type, "cost", m.cost());
            }
            if (m.snapshotHash() != null) {
                uint256(type, "snapshot_hash", m.snapshotHash());
            }
            return notV7(m.id()) + notV7(m.inferenceId());
        } else if (record instanceof ChatInference c) {
            uint32(type, "processing_time_ms", c.processingTimeMs());
            uint32(type, "ttft_ms", c.ttftMs());
            if (c.snapshotHash() != null) {
                uint256(type, "snapshot_hash", c.snapshotHash());
            }
            tags(type, c.tags());
            return notV7(c.id()) + notV7(c.episodeId());
        } else {
            JsonInference j = (JsonInference) record;
            uint32(type, "processing_time_ms", j.processingTimeMs());
            uint32(type, "ttft_ms", j.ttftMs());
            if (j.snapshotHash() != null) {
                uint256(type, "snapshot_hash", j.snapshotHash());
            }
            tags(type, j.tags());
            return notV7(j.id()) + notV7(j.episodeId());
        }
    }

    /** A UInt32 column; null (absent) passes. */
    private static void uint32(DataType type, String name, Long value) throws InvalidEventException {
        if (value != null && (value < 0 || value > UINT32_MAX)) {
            throw error(type, name, "expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got " + value);
        }
    }

    /** A UInt256 column, written as a decimal string; {@code text} null: not a string. */
    private static void uint256(DataType type, String name, String text) throws InvalidEventException {
        if (text == null
                || !DECIMAL_INTEGER.matcher(text).matches()
                || text.length() > 78
                || new BigInteger(text).compareTo(UINT256_LIMIT) >= 0) {
            throw error(type, name, "expected a decimal integer string below 2^256 (ClickHouse UInt256)");
        }
    }

    /** A Decimal(18,9) column; {@code value} null: not a number. */
    private static void decimal18x9(DataType type, String name, BigDecimal value) throws InvalidEventException {
        if (value == null || value.abs().compareTo(DECIMAL_18_9_LIMIT) >= 0) {
            throw error(
                    type, name, "expected a number below 1,000,000,000 in absolute value (ClickHouse Decimal(18,9))");
        }
    }

    private static void tags(DataType type, Map<String, String> tags) throws InvalidEventException {
        if (tags != null) {
            for (Map.Entry<String, String> tag : tags.entrySet()) {
                if (tag.getValue() == null) {
                    throw error(type, "tags." + tag.getKey(), "expected a string (tags cannot be null)");
                }
            }
        }
    }

    private static int notV7(UUID id) {
        return id != null && id.version() != 7 ? 1 : 0;
    }

    private static void uint32(DataType type, String name, JsonNode value) throws InvalidEventException {
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw error(type, name, "expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got " + value);
        }
        uint32(type, name, value.longValue());
    }

    private static InvalidEventException error(DataType type, String path, String reason) {
        return new InvalidEventException(type + " field \"" + path + "\": " + reason, path);
    }
}
