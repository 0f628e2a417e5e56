package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.forwarder.internal.json.ClickHouseSchema;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.testkit.ClickHouse;
import dev.forwarder.testkit.Golden;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our model of TensorZero's tables, held to a real ClickHouse (26.7, chdb) holding TensorZero's own DDL with
 * the gateway's insert settings: the columns are the same; every record we accept inserts; every record in
 * the shapes the gateway writes is accepted; every bad record we refuse is refused by ClickHouse too, or
 * stored by it as something else (which is why we refuse it).
 */
class TensorZeroTablesIT {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final String ID = "0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11";
    private static final String ID2 = "0192f3a1-7b90-7c3a-8e21-5d4c3b2a1f00";
    private static final String EPISODE = "0192f3a1-6a00-7000-8000-0123456789ab";
    private static final String UINT256_MAX =
            BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE).toString();

    @TempDir
    static Path dir;

    private static ClickHouse clickHouse;

    @BeforeAll
    static void start() throws Exception {
        clickHouse = ClickHouse.start(dir.resolve("clickhouse"));
        clickHouse.createTensorZeroTables();
    }

    @AfterAll
    static void stop() throws Exception {
        if (clickHouse != null) {
            clickHouse.close();
        }
    }

    /** ClickHouse's own description of TensorZero's tables is our declarative table, column for column. */
    @ParameterizedTest
    @EnumSource(DataType.class)
    void ourColumnsAreTheColumnsOfTensorZerosTables(DataType type) {
        List<String> actual = new ArrayList<>();
        for (JsonNode row : clickHouse.rows("SELECT name, type, default_kind, default_expression FROM system.columns"
                + " WHERE database = currentDatabase() AND table = '" + ClickHouseSchema.TABLES.get(type) + "'"
                + " ORDER BY position")) {
            if (row.get("default_kind").asText().equals("MATERIALIZED")) {
                assertEquals(
                        ClickHouseSchema.MATERIALIZED_TIMESTAMP, row.get("name").asText());
                continue;
            }
            actual.add(row.get("name").asText() + " " + row.get("type").asText() + " default="
                    + row.get("default_expression").asText());
        }
        List<String> ours = new ArrayList<>();
        for (ClickHouseSchema.Column c : ClickHouseSchema.COLUMNS.get(type)) {
            ours.add(c.name() + " " + c.clickHouseType() + " default=" + c.defaultValue());
        }
        assertEquals(actual, ours);
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyGoldenRecordIsAcceptedAndInserts(DataType type) {
        acceptedAndInserted(type, Golden.json(type), "golden " + type.wireName());
    }

    /** Records in the shapes TensorZero's gateway writes (its insert structs), boundaries included. */
    static List<Object[]> gatewayShapes() {
        return List.of(
                shape(DataType.CHAT_INFERENCE, "tools as the gateway stores them (tool/storage.rs)", """
                        {"id":"%s","function_name":"weather","variant_name":"v1","episode_id":"%s",
                         "input":{"messages":[{"role":"user","content":[{"type":"text","text":"Weather?"}]}]},
                         "output":[{"type":"tool_call","id":"c1","name":"get_weather","arguments":{"city":"Paris"},
                                    "raw_name":"get_weather","raw_arguments":"{\\"city\\":\\"Paris\\"}"}],
                         "tool_params":{"tools_available":[],"tool_choice":"auto","parallel_tool_calls":null},
                         "inference_params":{"chat_completion":{"temperature":0.2}},
                         "processing_time_ms":4294967295,"ttft_ms":0,"tags":{"tenant":"acme"},
                         "extra_body":[{"variant_name":"v1","pointer":"/x","value":1}],
                         "dynamic_tools":[{"type":"function","name":"get_weather","description":"Weather",
                                           "parameters":{"type":"object"},"strict":false}],
                         "dynamic_provider_tools":[{"scope":null,"tool":{"type":"web_search"}}],
                         "allowed_tools":{"tools":["get_weather"],"choice":"dynamic_allowed_tools"},
                         "tool_choice":{"specific":"get_weather"},"parallel_tool_calls":true,
                         "snapshot_hash":"%s"}
                        """.formatted(
                                ID, EPISODE, UINT256_MAX)),
                shape(
                        DataType.CHAT_INFERENCE,
                        "tool_choice as a string, tools empty, JSON columns as their text",
                        """
                        {"id":"%s","function_name":"f","variant_name":"v","episode_id":"%s",
                         "input":"{\\"messages\\":[]}","output":"[]","tool_params":"","inference_params":"{}",
                         "processing_time_ms":null,"ttft_ms":null,"tags":{},"extra_body":null,
                         "dynamic_tools":[],"dynamic_provider_tools":[],"allowed_tools":null,
                         "tool_choice":"required","parallel_tool_calls":null,"snapshot_hash":null}
                        """.formatted(ID2, EPISODE)),
                shape(DataType.CHAT_INFERENCE, "tools given as their JSON text", """
                        {"id":"%s","function_name":"f","variant_name":"v","episode_id":"%s",
                         "dynamic_tools":["{\\"name\\":\\"t\\"}"],"allowed_tools":"{\\"tools\\":[],\\"choice\\":\\"function_default\\"}",
                         "tool_choice":"none"}
                        """.formatted(ID, EPISODE)),
                shape(
                        DataType.MODEL_INFERENCE,
                        "a cache hit with 0053's function and variant, every number at its bound",
                        """
                        {"id":"%s","inference_id":"%s","raw_request":"{\\"model\\":\\"gpt-4o\\"}",
                         "raw_response":"","model_name":"gpt-4o","model_provider_name":"openai",
                         "input_tokens":4294967295,"output_tokens":0,"response_time_ms":0,"ttft_ms":null,
                         "system":null,"input_messages":"[]","output":"[]","cached":true,"finish_reason":"stop_sequence",
                         "snapshot_hash":"0","cost":999999999.999999999,
                         "provider_cache_read_input_tokens":4294967295,"provider_cache_write_input_tokens":null,
                         "function_name":"chat_function","variant_name":"variant_a"}
                        """.formatted(ID, ID2)),
                shape(
                        DataType.MODEL_INFERENCE,
                        "input_messages and output as JSON arrays, negative cost",
                        """
                        {"id":"%s","inference_id":"%s","raw_request":"r","raw_response":"r","model_name":"m",
                         "model_provider_name":"p","input_messages":[{"role":"user","content":[]}],
                         "output":[{"type":"text","text":"hi"}],"finish_reason":null,"cost":-0.000000001}
                        """.formatted(ID2, ID)),
                shape(DataType.JSON_INFERENCE, "a JSON function with its schema and auxiliary content", """
                        {"id":"%s","function_name":"extract","variant_name":"v","episode_id":"%s",
                         "input":{"system":{"language":"en"},"messages":[]},
                         "output":{"raw":"{\\"city\\":\\"Paris\\"}","parsed":{"city":"Paris"}},
                         "output_schema":{"type":"object"},"inference_params":{"chat_completion":{}},
                         "processing_time_ms":311,"ttft_ms":12,"tags":{"a":"","b":"ü"},"extra_body":[],
                         "auxiliary_content":[],"snapshot_hash":"%s"}
                        """.formatted(
                                ID, EPISODE, UINT256_MAX)),
                shape(DataType.JSON_INFERENCE, "JSON columns as their text, parsed null", """
                        {"id":"%s","function_name":"extract","variant_name":"v","episode_id":"%s",
                         "input":"{}","output":"{\\"raw\\":\\"x\\",\\"parsed\\":null}","output_schema":"{}",
                         "inference_params":"{}","auxiliary_content":""}
                        """.formatted(ID2, EPISODE)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("gatewayShapes")
    void everyGatewayShapeIsAcceptedAndInserts(DataType type, String why, String json) throws Exception {
        String probe = probe(type, json);
        acceptedAndInserted(type, probe, json.getBytes(StandardCharsets.UTF_8), why);
        JsonNode sent = JSON.readTree(json);
        JsonNode stored = clickHouse.rows("SELECT * FROM " + probe).get(0);
        for (String number : List.of(
                "processing_time_ms", "input_tokens", "provider_cache_read_input_tokens", "snapshot_hash", "cost")) {
            if (sent.hasNonNull(number)) {
                assertEquals(
                        new BigDecimal(sent.get(number).asText()),
                        new BigDecimal(stored.get(number).asText()),
                        number + " stored as sent");
            }
        }
    }

    /** Records that ClickHouse refuses, or stores as something else than what was sent: we refuse all. */
    static List<Object[]> badRecords() {
        String chat = "{\"id\":\"" + ID + "\",\"function_name\":\"f\",\"variant_name\":\"v\",\"episode_id\":\""
                + EPISODE + "\",";
        String model = "{\"id\":\"" + ID + "\",\"inference_id\":\"" + ID2 + "\",";
        return List.of(
                bad(DataType.CHAT_INFERENCE, "refused", "tags", chat + "\"tags\":{\"a\":null}}"),
                bad(DataType.CHAT_INFERENCE, "refused", "input", chat + "\"input\":null}"),
                bad(DataType.CHAT_INFERENCE, "refused", "output", chat + "\"output\":null}"),
                bad(DataType.CHAT_INFERENCE, "refused", "tool_params", chat + "\"tool_params\":null}"),
                bad(DataType.CHAT_INFERENCE, "refused", "inference_params", chat + "\"inference_params\":null}"),
                bad(DataType.CHAT_INFERENCE, "refused", "dynamic_tools", chat + "\"dynamic_tools\":null}"),
                bad(
                        DataType.CHAT_INFERENCE,
                        "refused",
                        "function_name",
                        chat.replace("\"f\"", "null") + "\"ttft_ms\":1}"),
                bad(DataType.CHAT_INFERENCE, "refused", "gateway_version", chat + "\"gateway_version\":\"1\"}"),
                bad(DataType.CHAT_INFERENCE, "refused", "timestamp", chat + "\"timestamp\":\"2026-01-01 00:00:00\"}"),
                bad(DataType.CHAT_INFERENCE, "refused", "processing_time_ms", chat + "\"processing_time_ms\":-1}"),
                bad(DataType.CHAT_INFERENCE, "refused", "snapshot_hash", chat + "\"snapshot_hash\":\"0xabc\"}"),
                bad(
                        DataType.CHAT_INFERENCE,
                        "changed",
                        "snapshot_hash",
                        chat + "\"snapshot_hash\":\"" + BigInteger.ONE.shiftLeft(256) + "\"}"),
                bad(DataType.CHAT_INFERENCE, "changed", "snapshot_hash", chat + "\"snapshot_hash\":\"\"}"),
                bad(
                        DataType.CHAT_INFERENCE,
                        "changed",
                        "processing_time_ms",
                        chat + "\"processing_time_ms\":4294967296}"),
                bad(DataType.CHAT_INFERENCE, "changed", "ttft_ms", chat + "\"ttft_ms\":18446744073709551616}"),
                bad(DataType.CHAT_INFERENCE, "changed", "processing_time_ms", chat + "\"processing_time_ms\":true}"),
                bad(
                        DataType.CHAT_INFERENCE,
                        "refused",
                        "id",
                        "{\"id\":\"AZLzoXwufUGbaj8NLlyKEQ==\",\"episode_id\":\"" + EPISODE + "\"}"),
                bad(DataType.CHAT_INFERENCE, "changed", "id", "{}"),
                bad(
                        DataType.JSON_INFERENCE,
                        "refused",
                        "output_schema",
                        "{\"id\":\"" + ID + "\",\"episode_id\":\"" + EPISODE + "\",\"output_schema\":null}"),
                bad(
                        DataType.JSON_INFERENCE,
                        "refused",
                        "auxiliary_content",
                        "{\"id\":\"" + ID + "\",\"episode_id\":\"" + EPISODE + "\",\"auxiliary_content\":null}"),
                bad(DataType.MODEL_INFERENCE, "refused", "cached", model + "\"cached\":null}"),
                bad(DataType.MODEL_INFERENCE, "refused", "finish_reason", model + "\"finish_reason\":\"done\"}"),
                bad(DataType.MODEL_INFERENCE, "refused", "cost", model + "\"cost\":1000000000}"),
                bad(DataType.MODEL_INFERENCE, "changed", "cost", model + "\"cost\":0.0000000001}"),
                bad(DataType.MODEL_INFERENCE, "refused", "model_name", model + "\"model_name\":null}"),
                bad(DataType.MODEL_INFERENCE, "refused", "raw_request", model + "\"raw_request\":null}"),
                bad(DataType.MODEL_INFERENCE, "refused", "id", model + "\"id\":\"" + ID + "\"}"));
    }

    @ParameterizedTest(name = "{0} {2}: ClickHouse {1}")
    @MethodSource("badRecords")
    void everyBadRecordIsRefusedByUsAndRefusedOrChangedByClickHouse(
            DataType type, String clickHouseDoes, String field, String json) throws Exception {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        Optional<String> ours = Forwarder.validate(type, bytes);
        assertTrue(ours.isPresent(), "we accepted " + json);
        assertTrue(
                ours.get().contains("field \"" + field) || ours.get().contains("'" + field + "'"),
                "the error names " + field + ": " + ours.get());
        String probe = probe(type, json);
        Optional<String> theirs = clickHouse.insertAsGateway(probe, List.of(bytes));
        if (clickHouseDoes.equals("refused")) {
            assertTrue(theirs.isPresent(), "ClickHouse took " + json);
        } else {
            assertEquals(Optional.empty(), theirs, "ClickHouse refused what we say it changes: " + json);
            JsonNode stored = clickHouse.rows("SELECT * FROM " + probe).get(0);
            JsonNode sent = JSON.readTree(json);
            String what = field.equals("id") ? "id" : field;
            assertNotEquals(
                    sent.has(what) ? sent.get(what).asText() : "(absent)",
                    stored.get(what).asText(),
                    field + " is stored as something else than sent, so refusing it is right");
        }
    }

    /** An empty table like {@code type}'s, for one record. */
    private static String probe(DataType type, String json) {
        String probe = "probe_" + Integer.toHexString(json.hashCode());
        clickHouse.query("DROP TABLE IF EXISTS " + probe);
        clickHouse.query("CREATE TABLE " + probe + " AS " + ClickHouseSchema.TABLES.get(type));
        return probe;
    }

    /** Typed records built with every field, and the golden ones read into typed records, insert. */
    @Test
    void typedRecordsInsert() throws Exception {
        EventCodec codec = new EventCodec();
        ModelInference model = new ModelInference(
                UUID.fromString(ID),
                UUID.fromString(ID2),
                "{\"model\":\"m\"}",
                "{}",
                "You are terse.",
                "[]",
                "[]",
                "m",
                "p",
                4_294_967_295L,
                0L,
                1L,
                2L,
                true,
                FinishReason.TOOL_CALL,
                new BigDecimal("0.000000001"),
                "chat_function",
                "variant_a",
                UINT256_MAX,
                3L,
                4L,
                null);
        ChatInference chat = new ChatInference(
                UUID.fromString(ID),
                "f",
                "v",
                UUID.fromString(EPISODE),
                (ObjectNode) JSON.readTree("{\"messages\":[]}"),
                JSON.createArrayNode(),
                JSON.readTree("{\"tools_available\":[]}"),
                JSON.readTree("{}"),
                5L,
                6L,
                Map.of("k", "v"),
                JSON.readTree("[]"),
                "1",
                List.of(JSON.readTree("{\"name\":\"t\",\"parameters\":{}}"), TextNode.valueOf("{\"name\":\"u\"}")),
                List.of(),
                JSON.readTree("{\"tools\":[\"t\"],\"choice\":\"dynamic_allowed_tools\"}"),
                JSON.readTree("{\"specific\":\"t\"}"),
                false,
                null);
        JsonInference json = (JsonInference) codec.parse(DataType.JSON_INFERENCE, Golden.json(DataType.JSON_INFERENCE));
        for (InferenceRecord record : List.of(model, chat, json)) {
            acceptedAndInserted(record.dataType(), codec.serialize(record), "typed " + record.dataType());
        }
    }

    private static void acceptedAndInserted(DataType type, byte[] json, String what) {
        acceptedAndInserted(type, ClickHouseSchema.TABLES.get(type), json, what);
    }

    private static void acceptedAndInserted(DataType type, String table, byte[] json, String what) {
        assertEquals(Optional.empty(), Forwarder.validate(type, json), what + " refused by us");
        Optional<String> refused = clickHouse.insertAsGateway(table, List.of(json));
        if (refused.isPresent()) {
            fail(what + " accepted by us but refused by ClickHouse: " + refused.get() + "\n"
                    + new String(json, StandardCharsets.UTF_8));
        }
    }

    private static Object[] shape(DataType type, String why, String json) {
        return new Object[] {type, why, json};
    }

    private static Object[] bad(DataType type, String clickHouseDoes, String field, String json) {
        return new Object[] {type, clickHouseDoes, field, json};
    }
}
