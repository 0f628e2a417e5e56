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

    /** A valid value for a column of this kind. */
    private static String good(ClickHouseSchema.Column column) {
        return switch (column.kind()) {
            case UUID -> "\"" + V7 + "\"";
            case UINT32 -> "4294967295";
            case STRING -> "\"text\"";
            case JSON_TEXT -> "{\"k\":[1,2]}";
            case ARRAY_JSON_TEXT -> "[{\"name\":\"t\"},\"{\\\"name\\\":\\\"u\\\"}\"]";
            case BOOL -> "true";
            case DECIMAL_18_9 -> "999999999.999999999";
            case UINT256 -> "\"" + java.math.BigInteger.ONE.shiftLeft(256).subtract(java.math.BigInteger.ONE) + "\"";
            case MAP_STRING_STRING -> "{\"user\":\"u-1\"}";
            case ENUM -> "\"" + column.enumNames().get(column.enumNames().size() - 1) + "\"";
        };
    }

    /** A value of a plausible JSON kind that the column's ClickHouse type refuses or would change. */
    private static String bad(ClickHouseSchema.Column column) {
        return switch (column.kind()) {
            case UUID -> "\"AZDAAAAAcACAAAAAAAAABA==\""; // the same UUID, base64: Jackson alone takes it
            case UINT32 -> "4294967296";
            case STRING -> "5";
            case JSON_TEXT -> "true";
            case ARRAY_JSON_TEXT -> "[1]";
            case BOOL -> "1";
            case DECIMAL_18_9 -> "0.0000000001";
            case UINT256 -> "\"" + java.math.BigInteger.ONE.shiftLeft(256) + "\"";
            case MAP_STRING_STRING -> "{\"user\":null}";
            case ENUM -> "\"done\"";
        };
    }

    /** As {@link #good}, in the shape the typed record reads (its trees and strings), for the round trip. */
    private static String typedGood(DataType type, ClickHouseSchema.Column column) {
        return switch (type.wireName() + "." + column.name()) {
            case "model_inference.input_messages", "model_inference.output" -> "\"[]\"";
            case "chat_inference.output" -> "[{\"type\":\"text\",\"text\":\"hi\"}]";
            case "json_inference.output" -> "{\"raw\":\"{}\",\"parsed\":{}}";
            default -> good(column);
        };
    }

    private String record(DataType type, String column, String value) {
        StringBuilder json = new StringBuilder("{");
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            json.append('"')
                    .append(c.name())
                    .append("\":")
                    .append(c.name().equals(column) ? value : typedGood(type, c))
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
            byte[] bad = record(type, c.name(), bad(c)).getBytes(StandardCharsets.UTF_8);
            InvalidEventException e =
                    assertThrows(InvalidEventException.class, () -> codec.check(type, bad), c.name() + " = " + bad(c));
            assertTrue(e.getMessage().contains("field \"" + c.name()), e.getMessage());
            if (!c.nullable()) {
                byte[] nulled = record(type, c.name(), "null").getBytes(StandardCharsets.UTF_8);
                InvalidEventException n = assertThrows(
                        InvalidEventException.class, () -> codec.check(type, nulled), c.name() + " = null");
                assertTrue(n.getMessage().contains(c.name()), n.getMessage());
            }
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"id\":\"0190c000-0000-7000-8000-000000000004\",\"id\":\"0190c000-0000-7000-8000-000000000005\"} | Duplicate field 'id'",
                "{\"id\":\"0190c000-0000-7000-8000-000000000008\",\"episode_id\":\"0190c000-0000-7000-8000-000000000009\",\"processing_time_ms\":-5} | processing_time_ms",
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
        byte[] negative = ("{\"id\":\"0190c000-0000-7000-8000-000000000008\","
                        + "\"episode_id\":\"0190c000-0000-7000-8000-000000000009\",\"processing_time_ms\":-5}")
                .getBytes(StandardCharsets.UTF_8);
        String why = Forwarder.validate(DataType.CHAT_INFERENCE, negative).orElseThrow();
        assertTrue(why.contains("field \"processing_time_ms\"") && why.contains("UInt32"), why);
        assertEquals(
                Optional.empty(),
                Forwarder.validate(
                        DataType.CHAT_INFERENCE,
                        record(DataType.CHAT_INFERENCE, null, null).getBytes(StandardCharsets.UTF_8)));
    }

    /** ops/clickhouse/forwarder.sql reads every column into its queue table, with the same type. */
    @ParameterizedTest
    @EnumSource(DataType.class)
    void theConsumerSqlHasEveryColumn(DataType type) throws Exception {
        String sql = Files.readString(
                Path.of(System.getProperty("user.dir")).getParent().resolve("ops/clickhouse/forwarder.sql"));
        int start = sql.indexOf("CREATE TABLE IF NOT EXISTS forwarder_" + type.wireName() + "_queue");
        assertTrue(start >= 0, "no queue table for " + type.wireName());
        String table = sql.substring(start, sql.indexOf("ENGINE", start));
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            String expected = c.name() + " " + c.clickHouseType();
            assertTrue(
                    table.contains(expected), type.wireName() + ": expected column \"" + expected + "\" in\n" + table);
        }
    }

    /** The typed records have exactly the columns of their tables (besides their carried extra fields). */
    @ParameterizedTest
    @EnumSource(DataType.class)
    void theTypedRecordsHaveEveryColumnAndNoOther(DataType type) {
        Class<?> model = switch (type) {
            case MODEL_INFERENCE -> ModelInference.class;
            case CHAT_INFERENCE -> ChatInference.class;
            case JSON_INFERENCE -> dev.forwarder.JsonInference.class;
        };
        var snake = new com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy();
        Set<String> fields = new TreeSet<>();
        for (var component : model.getRecordComponents()) {
            if (!component.getName().equals("extraFields")) {
                fields.add(snake.translate(component.getName()));
            }
        }
        assertEquals(new TreeSet<>(ClickHouseSchema.names(type)), fields, model.getSimpleName());
    }

    @Test
    void idsThatAreNotV7AreCountedNotRefused() throws Exception {
        AtomicLong counted = new AtomicLong();
        new EventCodec(counted::addAndGet, false)
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
