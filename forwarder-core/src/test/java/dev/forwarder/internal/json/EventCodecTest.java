package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.FinishReason;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import dev.forwarder.testkit.Golden;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Golden tests: TensorZero's documented messages survive the model unchanged; bad records are named. */
class EventCodecTest {

    private final EventCodec codec = new EventCodec();

    /** The known fields of each type, in TensorZero's names: what a null-filled output may add. */
    private static final Map<DataType, Set<String>> KNOWN_FIELDS = Map.of(
            DataType.MODEL_INFERENCE,
                    Set.of(
                            "id",
                            "inference_id",
                            "raw_request",
                            "raw_response",
                            "system",
                            "input_messages",
                            "output",
                            "model_name",
                            "model_provider_name",
                            "input_tokens",
                            "output_tokens",
                            "response_time_ms",
                            "ttft_ms",
                            "cached",
                            "finish_reason",
                            "cost",
                            "function_name",
                            "variant_name",
                            "snapshot_hash"),
            DataType.CHAT_INFERENCE,
                    Set.of(
                            "id",
                            "function_name",
                            "variant_name",
                            "episode_id",
                            "input",
                            "output",
                            "tool_params",
                            "inference_params",
                            "processing_time_ms",
                            "ttft_ms",
                            "tags",
                            "extra_body",
                            "snapshot_hash"),
            DataType.JSON_INFERENCE,
                    Set.of(
                            "id",
                            "function_name",
                            "variant_name",
                            "episode_id",
                            "input",
                            "output",
                            "inference_params",
                            "processing_time_ms",
                            "ttft_ms",
                            "tags",
                            "extra_body",
                            "output_schema",
                            "auxiliary_content",
                            "snapshot_hash"));

    @ParameterizedTest
    @EnumSource(DataType.class)
    void goldenMessageSurvivesRoundTrip(DataType type) throws Exception {
        byte[] original = Golden.json(type);
        InferenceRecord record = codec.parse(type, original);
        assertEquals(type, record.dataType());

        ObjectNode in = (ObjectNode) codec.mapper().readTree(original);
        ObjectNode out = (ObjectNode) codec.mapper().readTree(codec.serialize(record));

        for (Iterator<Map.Entry<String, JsonNode>> it = in.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getValue().isNull()) {
                // A null in a Nullable column is written by leaving the field out: the same NULL in the table.
                assertTrue(
                        out.get(field.getKey()) == null
                                || out.get(field.getKey()).isNull(),
                        field.getKey());
                continue;
            }
            assertEquals(field.getValue(), out.get(field.getKey()), "field " + field.getKey() + " changed");
        }
        // Nothing is added: fields the record did not have stay out (TensorZero's own serialisation omits
        // them; a null in a column that is not Nullable would fail the insert).
        Set<String> added = new TreeSet<>();
        out.fieldNames().forEachRemaining(added::add);
        in.fieldNames().forEachRemaining(added::remove);
        assertEquals(Set.of(), added, "fields written that the record did not have");
        // And parsing the output again gives the same record.
        assertEquals(record, codec.parse(type, codec.serialize(record)));
    }

    @Test
    void typedFieldsAreReadWithTheirTypes() throws Exception {
        ModelInference model =
                (ModelInference) codec.parse(DataType.MODEL_INFERENCE, Golden.json(DataType.MODEL_INFERENCE));
        assertEquals(UUID.fromString("0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11"), model.id());
        assertEquals(100L, model.inputTokens());
        assertEquals(Boolean.FALSE, model.cached());
        assertEquals("openai", model.modelProviderName());

        ChatInference chat = (ChatInference) codec.parse(DataType.CHAT_INFERENCE, Golden.json(DataType.CHAT_INFERENCE));
        assertEquals(Map.of("key", "value"), chat.tags());
        assertEquals("Paris.", chat.output().get(0).get("text").asText());

        JsonInference json = (JsonInference) codec.parse(DataType.JSON_INFERENCE, Golden.json(DataType.JSON_INFERENCE));
        assertEquals("Paris", json.output().parsed().get("city").asText());
        ObjectNode withUnknown = (ObjectNode) codec.mapper().readTree(Golden.json(DataType.JSON_INFERENCE));
        withUnknown.put("gateway_version", "2026.11.0");
        JsonInference carried = (JsonInference) new EventCodec(count -> {}, true)
                .parse(DataType.JSON_INFERENCE, codec.mapper().writeValueAsBytes(withUnknown));
        assertEquals("2026.11.0", carried.extraFields().get("gateway_version"), "unknown field carried");
    }

    @Test
    void finishReasonUsesTensorZeroNames() throws Exception {
        String json = "{\"id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\","
                + "\"inference_id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a12\",\"finish_reason\":\"tool_call\"}";
        ModelInference model = (ModelInference) codec.parse(DataType.MODEL_INFERENCE, bytes(json));
        assertEquals(FinishReason.TOOL_CALL, model.finishReason());
        assertTrue(
                new String(codec.serialize(model), StandardCharsets.UTF_8).contains("\"finish_reason\":\"tool_call\""));

        InvalidEventException e = assertThrows(
                InvalidEventException.class,
                () -> codec.parse(
                        DataType.MODEL_INFERENCE, withIds(DataType.MODEL_INFERENCE, "{\"finish_reason\":\"done\"}")));
        assertEquals("finish_reason", e.field());
        assertTrue(
                e.getMessage().contains("stop|length|tool_call|content_filter|unknown|stop_sequence"), e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "[1,2,3]                           | chat_inference record must be one JSON object, got an array",
                "\"just a string\"                 | chat_inference record must be one JSON object, got a string",
                "42                                | chat_inference record must be one JSON object, got an integer",
                "null                              | chat_inference record must be one JSON object, got null",
                "''                                | chat_inference record must be one JSON object, got nothing",
                "{\"variant_name\":\"a\"} {\"variant_name\":\"b\"} | more JSON follows it",
                "{\"id\":                          | not valid JSON",
            })
    void anythingButOneObjectIsRejected(String json, String expected) {
        InvalidEventException e =
                assertThrows(InvalidEventException.class, () -> codec.parse(DataType.CHAT_INFERENCE, bytes(json)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "model_inference | id                 | {\"id\":\"not-a-uuid\"}                  | expected a UUID in its 36-character form",
                "model_inference | input_tokens       | {\"input_tokens\":\"100\"}               | expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got a string",
                "model_inference | input_tokens       | {\"input_tokens\":1.5}                   | expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got 1.5",
                "model_inference | cached             | {\"cached\":\"false\"}                   | expected true or false, got a string",
                "model_inference | model_name         | {\"model_name\":4}                       | expected a string, got an integer",
                "model_inference | raw_request        | {\"raw_request\":{\"a\":1}}              | expected a string, got an object",
                "chat_inference  | input              | {\"input\":[1]}                          | expected a JSON object, got an array",
                "chat_inference  | output             | {\"output\":{\"type\":\"text\"}}         | expected a JSON array, got an object",
                "chat_inference  | episode_id         | {\"episode_id\":12}                      | expected a UUID in its 36-character form",
                "chat_inference  | tags.env           | {\"tags\":{\"env\":3}}                   | expected a string, got an integer",
                "json_inference  | output.raw         | {\"output\":{\"raw\":7}}                 | expected a string, got an integer",
                "json_inference  | processing_time_ms | {\"processing_time_ms\":true}            | expected an integer from 0 to 4,294,967,295 (ClickHouse UInt32), got a boolean",
            })
    void wrongTypeIsRejectedNamingTheField(String type, String field, String json, String reason) {
        DataType dataType = DataType.fromWireName(type).orElseThrow();
        InvalidEventException e =
                assertThrows(InvalidEventException.class, () -> codec.parse(dataType, withIds(dataType, json)));
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(type + " field \"" + field + "\": "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void unknownFieldsAreCarriedInOrderAndNullsStayNull() throws Exception {
        String json = "{\"id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\","
                + "\"inference_id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a12\",\"zeta\":{\"nested\":[1,2]},"
                + "\"alpha\":null,\"system\":null}";
        EventCodec carrying = new EventCodec(count -> {}, true);
        InferenceRecord record = carrying.parse(DataType.MODEL_INFERENCE, bytes(json));
        assertEquals(List.of("zeta", "alpha"), List.copyOf(record.extraFields().keySet()));
        JsonNode out = codec.mapper().readTree(carrying.serialize(record));
        assertEquals(codec.mapper().readTree("{\"nested\":[1,2]}"), out.get("zeta"));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> codec.serialize(record));
        assertTrue(refused.getMessage().contains("field \"zeta\""), refused.getMessage());
        assertTrue(out.get("alpha").isNull(), "an unknown field's null is carried");
        assertNull(out.get("system"), "a known field's null is left out (the column's default, NULL)");
        assertNull(((ModelInference) record).system());
    }

    @Test
    void typedRecordsBuiltInCodeSerialise() throws Exception {
        ChatInference chat = new ChatInference(
                UUID.randomUUID(),
                "f",
                "v",
                UUID.randomUUID(),
                (ObjectNode) codec.mapper().readTree("{\"messages\":[]}"),
                codec.mapper().createArrayNode(),
                null,
                null,
                12L,
                null,
                Map.of("a", "b"),
                null,
                null,
                List.of(
                        codec.mapper().readTree("{\"name\":\"t\",\"parameters\":{}}"),
                        TextNode.valueOf("{\"name\":\"u\"}")),
                null,
                codec.mapper().readTree("{\"tools\":[\"t\"],\"choice\":\"dynamic_allowed_tools\"}"),
                TextNode.valueOf("auto"),
                true,
                null);
        InferenceRecord back = codec.parse(DataType.CHAT_INFERENCE, codec.serialize(chat));
        assertInstanceOf(ChatInference.class, back);
        assertEquals(chat, back);
    }

    /** The JSON with the record's two ids added in front, where it does not set them itself. */
    private static byte[] withIds(DataType type, String json) {
        StringBuilder ids = new StringBuilder();
        String second = type == DataType.MODEL_INFERENCE ? "inference_id" : "episode_id";
        for (String id : List.of("id", second)) {
            if (!json.contains("\"" + id + "\"")) {
                ids.append("\"").append(id).append("\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\",");
            }
        }
        return bytes("{" + ids + json.substring(1));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
