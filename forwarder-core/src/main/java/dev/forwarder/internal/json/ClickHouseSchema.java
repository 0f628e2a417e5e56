package dev.forwarder.internal.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TensorZero's {@code ModelInference}, {@code ChatInference} and {@code JsonInference} ClickHouse tables,
 * column by column, as its migrations leave them at tensorzero/tensorzero {@value #TENSORZERO_COMMIT}
 * ({@code crates/tensorzero-core/src/db/clickhouse/migration_manager/migrations/}, 0000 to 0053): name,
 * ClickHouse type, default. The one place these facts are written: the checks below are driven by it, and
 * the tests compare it with the tables a real ClickHouse creates from TensorZero's DDL, with the typed
 * records' fields and with the columns of the consumer recipe ({@code ops/clickhouse/forwarder.sql}).
 *
 * <p>{@link #check} holds a record's JSON to the gateway's own insert ({@code FORMAT JSONEachRow},
 * {@code input_format_skip_unknown_fields = 0}, {@code input_format_null_as_default = 0}): what that insert
 * refuses, and what it would silently store as something else, is refused here with the field's name.
 */
public final class ClickHouseSchema {

    /** The TensorZero commit whose migrations {@link #COLUMNS} follows. */
    public static final String TENSORZERO_COMMIT = "7a6159a";

    /** The TensorZero table each data type loads into. */
    public static final Map<DataType, String> TABLES = Map.of(
            DataType.MODEL_INFERENCE, "ModelInference",
            DataType.CHAT_INFERENCE, "ChatInference",
            DataType.JSON_INFERENCE, "JsonInference");

    /** How a column's JSON value is checked; follows from its ClickHouse type. */
    public enum Kind {
        UUID,
        UINT32,
        /** Text: a JSON string only (ClickHouse would store a number's or a boolean's text). */
        STRING,
        /**
         * A JSON document kept as text: a string (the document's text, as the gateway writes it), or an object
         * or array, which ClickHouse stores as its JSON text.
         */
        JSON_TEXT,
        /** {@code Array(String)} of JSON documents: each element a string, an object or an array. */
        ARRAY_JSON_TEXT,
        BOOL,
        DECIMAL_18_9,
        UINT256,
        MAP_STRING_STRING,
        /** {@code Enum8}: one of its names. */
        ENUM
    }

    /**
     * One column of a TensorZero table.
     *
     * @param clickHouseType its type as ClickHouse names it ({@code system.columns.type})
     * @param kind           what a JSON value for it must be
     * @param defaultValue   its {@code DEFAULT} expression, "" for the type's own default
     * @param required       an id the gateway always writes: absent, ClickHouse would store the nil UUID
     */
    public record Column(String name, String clickHouseType, Kind kind, String defaultValue, boolean required) {

        /** {@code Nullable(...)}: a JSON null is stored as NULL; in any other column null is refused. */
        public boolean nullable() {
            return clickHouseType.startsWith("Nullable(");
        }

        /** The names of an {@code Enum8} column. */
        public List<String> enumNames() {
            List<String> names = new ArrayList<>();
            Matcher name = ENUM_NAME.matcher(clickHouseType);
            while (name.find()) {
                names.add(name.group(1));
            }
            return names;
        }
    }

    private static final Pattern ENUM_NAME = Pattern.compile("'([^']*)' = ");

    /** The column every table derives from {@code id} and that an insert must not name. */
    public static final String MATERIALIZED_TIMESTAMP = "timestamp";

    private static final String FINISH_REASON = "Nullable(Enum8('stop' = 1, 'length' = 2, 'tool_call' = 3,"
            + " 'content_filter' = 4, 'unknown' = 5, 'stop_sequence' = 6))";

    /** The insertable columns of each table, in table order ({@code timestamp}, MATERIALIZED, left out). */
    public static final Map<DataType, List<Column>> COLUMNS = Map.of(
            DataType.MODEL_INFERENCE,
                    List.of(
                            id("id"),
                            id("inference_id"),
                            col("raw_request", "String", Kind.STRING),
                            col("raw_response", "String", Kind.STRING),
                            col("model_name", "LowCardinality(String)", Kind.STRING),
                            col("model_provider_name", "LowCardinality(String)", Kind.STRING),
                            col("input_tokens", "Nullable(UInt32)", Kind.UINT32),
                            col("output_tokens", "Nullable(UInt32)", Kind.UINT32),
                            col("response_time_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("ttft_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("system", "Nullable(String)", Kind.STRING),
                            col("input_messages", "String", Kind.JSON_TEXT),
                            col("output", "String", Kind.JSON_TEXT),
                            col("cached", "Bool", Kind.BOOL, "false"),
                            col("finish_reason", FINISH_REASON, Kind.ENUM),
                            col("snapshot_hash", "Nullable(UInt256)", Kind.UINT256),
                            col("cost", "Nullable(Decimal(18, 9))", Kind.DECIMAL_18_9),
                            col("provider_cache_read_input_tokens", "Nullable(UInt32)", Kind.UINT32),
                            col("provider_cache_write_input_tokens", "Nullable(UInt32)", Kind.UINT32),
                            col("function_name", "LowCardinality(String)", Kind.STRING, "''"),
                            col("variant_name", "LowCardinality(String)", Kind.STRING, "''")),
            DataType.CHAT_INFERENCE,
                    List.of(
                            id("id"),
                            col("function_name", "LowCardinality(String)", Kind.STRING),
                            col("variant_name", "LowCardinality(String)", Kind.STRING),
                            id("episode_id"),
                            col("input", "String", Kind.JSON_TEXT),
                            col("output", "String", Kind.JSON_TEXT),
                            col("tool_params", "String", Kind.JSON_TEXT),
                            col("inference_params", "String", Kind.JSON_TEXT),
                            col("processing_time_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("tags", "Map(String, String)", Kind.MAP_STRING_STRING, "map()"),
                            col("extra_body", "Nullable(String)", Kind.JSON_TEXT),
                            col("ttft_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("dynamic_tools", "Array(String)", Kind.ARRAY_JSON_TEXT),
                            col("dynamic_provider_tools", "Array(String)", Kind.ARRAY_JSON_TEXT),
                            col("allowed_tools", "Nullable(String)", Kind.JSON_TEXT),
                            col("tool_choice", "Nullable(String)", Kind.JSON_TEXT),
                            col("parallel_tool_calls", "Nullable(Bool)", Kind.BOOL),
                            col("snapshot_hash", "Nullable(UInt256)", Kind.UINT256)),
            DataType.JSON_INFERENCE,
                    List.of(
                            id("id"),
                            col("function_name", "LowCardinality(String)", Kind.STRING),
                            col("variant_name", "LowCardinality(String)", Kind.STRING),
                            id("episode_id"),
                            col("input", "String", Kind.JSON_TEXT),
                            col("output", "String", Kind.JSON_TEXT),
                            col("output_schema", "String", Kind.JSON_TEXT),
                            col("inference_params", "String", Kind.JSON_TEXT),
                            col("processing_time_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("tags", "Map(String, String)", Kind.MAP_STRING_STRING, "map()"),
                            col("extra_body", "Nullable(String)", Kind.JSON_TEXT),
                            col("auxiliary_content", "String", Kind.JSON_TEXT),
                            col("ttft_ms", "Nullable(UInt32)", Kind.UINT32),
                            col("snapshot_hash", "Nullable(UInt256)", Kind.UINT256)));

    private static final Map<DataType, Map<String, Column>> BY_NAME = new LinkedHashMap<>();

    static {
        for (Map.Entry<DataType, List<Column>> table : COLUMNS.entrySet()) {
            Map<String, Column> byName = new LinkedHashMap<>();
            for (Column column : table.getValue()) {
                byName.put(column.name(), column);
            }
            BY_NAME.put(table.getKey(), byName);
        }
    }

    static final long UINT32_MAX = 4_294_967_295L;
    private static final BigInteger UINT256_LIMIT = BigInteger.ONE.shiftLeft(256);
    private static final BigDecimal DECIMAL_18_9_LIMIT = BigDecimal.TEN.pow(9);
    private static final Pattern CANONICAL_UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern DECIMAL_INTEGER = Pattern.compile("0|[1-9][0-9]*");

    private ClickHouseSchema() {}

    private static Column id(String name) {
        return new Column(name, "UUID", Kind.UUID, "", true);
    }

    private static Column col(String name, String clickHouseType, Kind kind) {
        return col(name, clickHouseType, kind, "");
    }

    private static Column col(String name, String clickHouseType, Kind kind, String defaultValue) {
        return new Column(name, clickHouseType, kind, defaultValue, false);
    }

    /** The column {@code name} of {@code type}'s table, or null when the table has none. */
    public static Column column(DataType type, String name) {
        return BY_NAME.get(type).get(name);
    }

    /**
     * Holds a record's top-level fields to its table's columns.
     *
     * @param carryUnknown true: fields that are not columns pass (for consumers that skip them); false:
     *                     refused, as the gateway's insert refuses them
     * @return how many of its UUID columns hold a UUID that is not version 7 (a warning: TensorZero derives
     *         {@code timestamp} from a v7 id, so such rows sort as if written at another time)
     * @throws InvalidEventException naming the first field that such an insert would refuse or change
     */
    public static int check(DataType type, JsonNode record, boolean carryUnknown) throws InvalidEventException {
        Map<String, Column> columns = BY_NAME.get(type);
        Iterator<String> names = record.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (columns.containsKey(name)) {
                continue;
            }
            if (name.equals(MATERIALIZED_TIMESTAMP)) {
                throw error(
                        type,
                        name,
                        "TensorZero's " + TABLES.get(type) + " table computes timestamp from id (MATERIALIZED);"
                                + " an insert that names it is refused: leave it out");
            }
            if (!carryUnknown) {
                throw error(
                        type,
                        name,
                        "is not a column of TensorZero's " + TABLES.get(type) + " table, and its insert refuses"
                                + " unknown fields; leave it out, or set forwarder.schema.unknown_fields = carry"
                                + " if your consumer skips them");
            }
        }
        int nonV7 = 0;
        for (Column column : columns.values()) {
            JsonNode value = record.get(column.name());
            if (value == null) {
                if (column.required()) {
                    throw error(
                            type,
                            column.name(),
                            "is missing; TensorZero's " + TABLES.get(type) + " table would store the nil UUID");
                }
                continue; // absent: the column's DEFAULT
            }
            if (value.isNull()) {
                if (!column.nullable()) {
                    throw error(
                            type,
                            column.name(),
                            "is null, but the " + column.name() + " column (" + column.clickHouseType()
                                    + ") is not Nullable; leave the field out for its default");
                }
                continue;
            }
            nonV7 += value(type, column, value);
        }
        return nonV7;
    }

    /** Checks one present, non-null value; returns 1 for a UUID that is not version 7. */
    private static int value(DataType type, Column column, JsonNode value) throws InvalidEventException {
        String name = column.name();
        switch (column.kind()) {
            case UUID -> {
                if (!value.isTextual()
                        || !CANONICAL_UUID.matcher(value.textValue()).matches()) {
                    throw error(type, name, "expected a UUID in its 36-character form (8-4-4-4-12 hex digits)");
                }
                return value.textValue().charAt(14) != '7' ? 1 : 0;
            }
            case UINT32 -> uint32(type, name, value);
            case STRING -> {
                if (!value.isTextual()) {
                    throw error(type, name, "expected a string, got " + describe(value));
                }
            }
            case JSON_TEXT -> jsonText(type, name, value);
            case ARRAY_JSON_TEXT -> {
                if (!value.isArray()) {
                    throw error(
                            type,
                            name,
                            "expected an array (of tools: objects, or their JSON text), got " + describe(value));
                }
                for (int i = 0; i < value.size(); i++) {
                    jsonText(type, name + "[" + i + "]", value.get(i));
                }
            }
            case BOOL -> {
                if (!value.isBoolean()) {
                    throw error(type, name, "expected true or false, got " + describe(value));
                }
            }
            case DECIMAL_18_9 -> decimal18x9(type, name, value.isNumber() ? value.decimalValue() : null);
            case UINT256 -> uint256(type, name, value.isTextual() ? value.textValue() : null);
            case MAP_STRING_STRING -> {
                if (!value.isObject()) {
                    throw error(type, name, "expected an object of strings, got " + describe(value));
                }
                var fields = value.fields();
                while (fields.hasNext()) {
                    var field = fields.next();
                    if (!field.getValue().isTextual()) {
                        throw error(
                                type,
                                name + "." + field.getKey(),
                                "expected a string, got " + describe(field.getValue())
                                        + (field.getValue().isNull() ? " (tags cannot be null)" : ""));
                    }
                }
            }
            case ENUM -> {
                if (!value.isTextual() || !column.enumNames().contains(value.textValue())) {
                    throw error(
                            type, name, "expected one of " + String.join("|", column.enumNames()) + ", got " + value);
                }
            }
            default -> throw new IllegalStateException("unchecked kind " + column.kind());
        }
        return 0;
    }

    /** A JSON document stored as text: its text as a string, or the object or array itself. */
    private static void jsonText(DataType type, String name, JsonNode value) throws InvalidEventException {
        if (!value.isTextual() && !value.isContainerNode()) {
            throw error(
                    type,
                    name,
                    "expected a JSON object or array, or its text as a string, got " + describe(value)
                            + " (ClickHouse would store its text, losing its type)");
        }
    }

    /**
     * The same rules for the fields of a typed record that its Java types do not already bound, without
     * building JSON (the typed publish path): integers, {@code snapshot_hash}, {@code cost}, tag values, ids,
     * tools, and fields the record carries that are not columns.
     *
     * @see #idsNotV7
     */
    static void checkTyped(InferenceRecord record, boolean carryUnknown) throws InvalidEventException {
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
            required(type, "id", m.id());
            required(type, "inference_id", m.inferenceId());
            extraFields(type, m.extraFields(), carryUnknown);
        } else if (record instanceof ChatInference c) {
            uint32(type, "processing_time_ms", c.processingTimeMs());
            uint32(type, "ttft_ms", c.ttftMs());
            if (c.snapshotHash() != null) {
                uint256(type, "snapshot_hash", c.snapshotHash());
            }
            tags(type, c.tags());
            tools(type, "dynamic_tools", c.dynamicTools());
            tools(type, "dynamic_provider_tools", c.dynamicProviderTools());
            if (c.allowedTools() != null) {
                jsonText(type, "allowed_tools", c.allowedTools());
            }
            if (c.toolChoice() != null) {
                jsonText(type, "tool_choice", c.toolChoice());
            }
            required(type, "id", c.id());
            required(type, "episode_id", c.episodeId());
            extraFields(type, c.extraFields(), carryUnknown);
        } else {
            JsonInference j = (JsonInference) record;
            uint32(type, "processing_time_ms", j.processingTimeMs());
            uint32(type, "ttft_ms", j.ttftMs());
            if (j.snapshotHash() != null) {
                uint256(type, "snapshot_hash", j.snapshotHash());
            }
            tags(type, j.tags());
            required(type, "id", j.id());
            required(type, "episode_id", j.episodeId());
            extraFields(type, j.extraFields(), carryUnknown);
        }
    }

    /** How many of a typed record's ids are not version 7 (counted whether or not the record passes). */
    static int idsNotV7(InferenceRecord record) {
        if (record instanceof ModelInference m) {
            return notV7(m.id()) + notV7(m.inferenceId());
        } else if (record instanceof ChatInference c) {
            return notV7(c.id()) + notV7(c.episodeId());
        }
        JsonInference j = (JsonInference) record;
        return notV7(j.id()) + notV7(j.episodeId());
    }

    private static void required(DataType type, String name, UUID id) throws InvalidEventException {
        if (id == null) {
            throw error(type, name, "is missing; TensorZero's " + TABLES.get(type) + " table would store the nil UUID");
        }
    }

    private static void tools(DataType type, String name, List<JsonNode> tools) throws InvalidEventException {
        if (tools != null) {
            for (int i = 0; i < tools.size(); i++) {
                JsonNode tool = tools.get(i);
                if (tool == null || tool.isNull()) {
                    throw error(type, name + "[" + i + "]", "is null; an Array(String) element cannot be");
                }
                jsonText(type, name + "[" + i + "]", tool);
            }
        }
    }

    private static void extraFields(DataType type, Map<String, Object> extra, boolean carryUnknown)
            throws InvalidEventException {
        for (String name : extra.keySet()) {
            if (name.equals(MATERIALIZED_TIMESTAMP)
                    || (!carryUnknown && !BY_NAME.get(type).containsKey(name))) {
                throw error(
                        type,
                        name,
                        "is not a column of TensorZero's " + TABLES.get(type) + " table that an insert may name;"
                                + " leave it out"
                                + (name.equals(MATERIALIZED_TIMESTAMP)
                                        ? ""
                                        : ", or set forwarder.schema.unknown_fields = carry if your consumer skips it"));
            }
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

    /**
     * A Decimal(18,9) column; {@code value} null: not a number. More than nine fractional digits are refused:
     * ClickHouse would truncate them silently.
     */
    private static void decimal18x9(DataType type, String name, BigDecimal value) throws InvalidEventException {
        if (value == null || value.abs().compareTo(DECIMAL_18_9_LIMIT) >= 0) {
            throw error(
                    type, name, "expected a number below 1,000,000,000 in absolute value (ClickHouse Decimal(18,9))");
        }
        if (value.stripTrailingZeros().scale() > 9) {
            throw error(
                    type,
                    name,
                    "has more than 9 decimal places (ClickHouse Decimal(18,9) would cut " + value.toPlainString()
                            + " short)");
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
            throw error(
                    type,
                    name,
                    "expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got "
                            + (value.isNumber() ? value.toString() : describe(value)));
        }
        uint32(type, name, value.longValue());
    }

    private static String describe(JsonNode value) {
        return switch (value.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> value.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> value.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** The column names of a table in order, for recipe and DDL checks. */
    public static List<String> names(DataType type) {
        return List.copyOf(BY_NAME.get(type).keySet());
    }

    static Set<String> known(DataType type) {
        return BY_NAME.get(type).keySet();
    }

    private static InvalidEventException error(DataType type, String path, String reason) {
        return new InvalidEventException(type + " field \"" + path + "\": " + reason, path);
    }
}
