package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Records that TensorZero's ClickHouse insert would refuse are refused here, naming the field; the rules
 * come from {@link ClickHouseSchema#COLUMNS}, so each column is tried with a good and a bad value.
 */
class ClickHouseSchemaTest {

    private final EventCodec codec = new EventCodec();
    private static final String V7 = "0190c000-0000-7000-8000-000000000004";

    /** A valid value for a column of this type. */
    private static String good(ClickHouseSchema.Type type) {
        return switch (type) {
            case UUID -> "\"" + V7 + "\"";
            case UINT32 -> "4294967295";
            case STRING -> "\"text\"";
            case BOOL -> "true";
            case DECIMAL_18_9 -> "999999999.999999999";
            case UINT256 -> "\"" + java.math.BigInteger.ONE.shiftLeft(256).subtract(java.math.BigInteger.ONE) + "\"";
            case ARRAY_STRING -> "[\"{\\\"name\\\":\\\"t\\\"}\"]";
            case MAP_STRING_STRING -> "{\"user\":\"u-1\"}";
        };
    }

    /** A value of the right JSON kind that the column's ClickHouse type cannot hold. */
    private static String bad(ClickHouseSchema.Type type) {
        return switch (type) {
            case UUID -> "\"AZDAAAAAcACAAAAAAAAABA==\""; // the same UUID, base64: Jackson alone takes it
            case UINT32 -> "4294967296";
            case STRING -> "5";
            case BOOL -> "\"yes\"";
            case DECIMAL_18_9 -> "1e400";
            case UINT256 -> "\"" + java.math.BigInteger.ONE.shiftLeft(256) + "\"";
            case ARRAY_STRING -> "[1]";
            case MAP_STRING_STRING -> "{\"user\":null}";
        };
    }

    private String record(DataType type, String column, String value) {
        StringBuilder json = new StringBuilder("{");
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            json.append('"')
                    .append(c.name())
                    .append("\":")
                    .append(
                            c.name().equals(column)
                                    ? value
                                    : c.name().equals("finish_reason") ? "\"stop\"" : good(c.type()))
                    .append(',');
        }
        json.setLength(json.length() - 1);
        return json.append('}').toString();
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void aRecordWithEveryCheckedColumnSetIsAcceptedAndEachBadValueIsRefusedByName(DataType type) throws Exception {
        String full = record(type, null, null);
        InferenceRecord parsed = codec.parse(type, full.getBytes(StandardCharsets.UTF_8));
        ObjectNode written = (ObjectNode) codec.mapper().readTree(codec.serialize(parsed));
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            assertTrue(written.has(c.name()), type + " lost column " + c.name() + " on the way through the model");
            byte[] bad = record(type, c.name(), bad(c.type())).getBytes(StandardCharsets.UTF_8);
            InvalidEventException e = assertThrows(
                    InvalidEventException.class, () -> codec.parse(type, bad), c.name() + " = " + bad(c.type()));
            assertTrue(e.getMessage().contains("field \"" + c.name()), e.getMessage());
            if (!c.nullable()) {
                byte[] nulled = record(type, c.name(), "null").getBytes(StandardCharsets.UTF_8);
                InvalidEventException n = assertThrows(
                        InvalidEventException.class, () -> codec.parse(type, nulled), c.name() + " = null");
                assertTrue(n.getMessage().contains(c.name()), n.getMessage());
            }
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"id\":\"0190c000-0000-7000-8000-000000000004\",\"id\":\"0190c000-0000-7000-8000-000000000005\"} | Duplicate field 'id'",
                "{\"id\":\"0190c000-0000-7000-8000-000000000008\",\"processing_time_ms\":-5} | processing_time_ms",
                "{\"input\":{\"messages\":[{\"role\":\"user\",\"role\":\"assistant\"}]}} | Duplicate field 'role'",
                "{\"tags\":{\"a\":\"1\",\"a\":\"2\"}} | Duplicate field 'a'",
            })
    void theIssuesExamplesAndNestedDuplicatesAreRefused(String json, String expected) {
        InvalidEventException e = assertThrows(
                InvalidEventException.class,
                () -> codec.parse(DataType.CHAT_INFERENCE, json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void validateGivesTheSameVerdictWithoutPublishing() {
        byte[] negative = "{\"id\":\"0190c000-0000-7000-8000-000000000008\",\"processing_time_ms\":-5}"
                .getBytes(StandardCharsets.UTF_8);
        String why = Forwarder.validate(DataType.CHAT_INFERENCE, negative).orElseThrow();
        assertTrue(why.contains("field \"processing_time_ms\"") && why.contains("UInt32"), why);
        assertEquals(
                Optional.empty(),
                Forwarder.validate(
                        DataType.CHAT_INFERENCE,
                        record(DataType.CHAT_INFERENCE, null, null).getBytes(StandardCharsets.UTF_8)));
    }

    /** ops/clickhouse/forwarder.sql reads every checked column into its queue table, with the same type. */
    @ParameterizedTest
    @EnumSource(DataType.class)
    void theConsumerSqlHasEveryCheckedColumn(DataType type) throws Exception {
        String sql = Files.readString(
                Path.of(System.getProperty("user.dir")).getParent().resolve("ops/clickhouse/forwarder.sql"));
        int start = sql.indexOf("CREATE TABLE IF NOT EXISTS forwarder_" + type.wireName() + "_queue");
        assertTrue(start >= 0, "no queue table for " + type.wireName());
        String table = sql.substring(start, sql.indexOf("ENGINE", start));
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            String sqlType = switch (c.type()) {
                case UUID -> "UUID";
                case UINT32 -> "UInt32";
                case STRING -> "String";
                case BOOL -> "Bool";
                case DECIMAL_18_9 -> "Decimal(18, 9)";
                case UINT256 -> "UInt256";
                case ARRAY_STRING -> "Array(String)";
                case MAP_STRING_STRING -> "Map(String, String)";
            };
            String expected = c.name() + " "
                    + (c.nullable()
                                    && c.type() != ClickHouseSchema.Type.MAP_STRING_STRING
                                    && c.type() != ClickHouseSchema.Type.ARRAY_STRING
                            ? "Nullable(" + sqlType + ")"
                            : sqlType);
            assertTrue(
                    table.contains(expected), type.wireName() + ": expected column \"" + expected + "\" in\n" + table);
        }
    }

    @Test
    void idsThatAreNotV7AreCountedNotRefused() throws Exception {
        AtomicLong counted = new AtomicLong();
        new EventCodec(counted::addAndGet)
                .parse(
                        DataType.CHAT_INFERENCE,
                        ("{\"id\":\"" + UUID.randomUUID() + "\",\"episode_id\":\"" + V7 + "\"}")
                                .getBytes(StandardCharsets.UTF_8));
        assertEquals(1, counted.get(), "the v4 id, not the v7 episode id");
    }

    @Test
    void typedRecordsAreHeldToTheSameRulesAndLeaveAbsentFieldsOut() throws Exception {
        ModelInference negative = new ModelInference(
                UUID.fromString(V7),
                UUID.fromString(V7),
                "{}",
                "{}",
                null,
                "[]",
                "[]",
                "m",
                "p",
                -1L,
                null,
                null,
                null,
                false,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.serialize(negative));
        assertTrue(e.getMessage().contains("field \"input_tokens\""), e.getMessage());
        ModelInference tooDear = new ModelInference(
                UUID.fromString(V7),
                UUID.fromString(V7),
                "{}",
                "{}",
                null,
                "[]",
                "[]",
                "m",
                "p",
                1L,
                null,
                null,
                null,
                false,
                null,
                new BigDecimal("1e12"),
                null,
                null,
                null,
                null,
                null,
                null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.serialize(tooDear))
                .getMessage()
                .contains("field \"cost\""));
        ChatInference nullTag = new ChatInference(
                UUID.fromString(V7),
                "f",
                "v",
                UUID.fromString(V7),
                null,
                null,
                null,
                null,
                null,
                null,
                new LinkedHashMap<>(Collections.singletonMap("k", null)),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.serialize(nullTag))
                .getMessage()
                .contains("field \"tags.k\""));

        ChatInference sparse = new ChatInference(
                UUID.fromString(V7),
                "f",
                "v",
                UUID.fromString(V7),
                null,
                null,
                null,
                null,
                null,
                null,
                Map.of(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        ObjectNode out = (ObjectNode) codec.mapper().readTree(codec.serialize(sparse));
        assertEquals(
                Set.of("id", "function_name", "variant_name", "episode_id", "tags"),
                new TreeSet<>(iterable(out.fieldNames())));
    }

    private static <T> List<T> iterable(Iterator<T> it) {
        List<T> list = new ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}
