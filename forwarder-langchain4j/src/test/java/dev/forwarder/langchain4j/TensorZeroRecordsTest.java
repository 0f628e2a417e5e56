package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.ChatInference;
import dev.forwarder.FinishReason;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The mapping of a LangChain4j call to TensorZero's records, without a model or a forwarder: a request and
 * a response built in the test, ids handed in, and the records' fields checked one by one.
 */
class TensorZeroRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final UUID EPISODE = UUID.fromString("0192f3a1-6a00-7000-8000-0123456789ab");
    private static final UUID MODEL_ID = UUID.fromString("0192f3a1-6a00-7000-8000-000000000001");
    private static final UUID CHAT_ID = UUID.fromString("0192f3a1-6a00-7000-8000-000000000002");

    static final ToolExecutionRequest CALL = ToolExecutionRequest.builder()
            .id("call_1")
            .name("weather")
            .arguments("{\"city\":\"Paris\"}")
            .build();

    /** A call with a tool, two system messages, an image, a tool call and two tool results. */
    static ChatRequest toolRequest() {
        return ChatRequest.builder()
                .modelName("gpt-4o-mini")
                .temperature(0.5)
                .maxOutputTokens(100)
                .toolSpecifications(ToolSpecification.builder()
                        .name("weather")
                        .description("the weather in a city")
                        .parameters(JsonObjectSchema.builder()
                                .addStringProperty("city")
                                .build())
                        .build())
                .messages(
                        SystemMessage.from("Be brief."),
                        SystemMessage.from("Use tools."),
                        UserMessage.from(
                                TextContent.from("Weather in Paris?"),
                                ImageContent.from("https://example.com/paris.png")),
                        AiMessage.from(CALL),
                        ToolExecutionResultMessage.from(CALL, "sunny"),
                        ToolExecutionResultMessage.from("call_2", "weather", "warm"))
                .build();
    }

    /** The model's answer to {@link #toolRequest}: text and the tool call. */
    static ChatResponse toolResponse() {
        return ChatResponse.builder()
                .aiMessage(AiMessage.from("It is sunny.", List.of(CALL)))
                .modelName("gpt-4o-mini-2024-07-18")
                .tokenUsage(new TokenUsage(12, 7))
                .finishReason(dev.langchain4j.model.output.FinishReason.TOOL_EXECUTION)
                .build();
    }

    @Test
    void aCallWithToolsBecomesALinkedModelAndChatInference() throws Exception {
        ChatRequest request = toolRequest();
        ChatResponse response = toolResponse();
        CallAttributes attributes =
                new CallAttributes("weather_bot", "gpt-4o-mini", EPISODE, Map.of("user", "u1"), 250L, 40L);
        Deque<UUID> ids = new ArrayDeque<>(List.of(CHAT_ID, MODEL_ID));

        List<InferenceRecord> records =
                TensorZeroRecords.of(request, response, ModelProvider.OPEN_AI, attributes, ids::poll);

        ModelInference model = (ModelInference) records.get(0);
        ChatInference chat = (ChatInference) records.get(1);
        assertEquals(MODEL_ID, model.id());
        assertEquals(CHAT_ID, model.inferenceId(), "the model inference points at the chat inference");
        assertEquals(CHAT_ID, chat.id());
        assertEquals("gpt-4o-mini", model.modelName(), "the model the request asked for");
        assertEquals("openai", model.modelProviderName());
        assertEquals(12L, model.inputTokens());
        assertEquals(7L, model.outputTokens());
        assertEquals(250L, model.responseTimeMs());
        assertEquals(40L, model.ttftMs());
        assertEquals(FinishReason.TOOL_CALL, model.finishReason());
        assertEquals("weather_bot", model.functionName());
        assertEquals("gpt-4o-mini", model.variantName());
        assertEquals("Be brief.\nUse tools.", model.system(), "system messages joined");

        assertEquals(
                JSON.readTree("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Weather in Paris?\"},"
                        + "{\"type\":\"file\",\"file_type\":\"url\",\"url\":\"https://example.com/paris.png\",\"mime_type\":null}]},"
                        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_call\",\"id\":\"call_1\","
                        + "\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]},"
                        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"id\":\"call_1\","
                        + "\"name\":\"weather\",\"result\":\"sunny\"},{\"type\":\"tool_result\",\"id\":\"call_2\","
                        + "\"name\":\"weather\",\"result\":\"warm\"}]}]"),
                JSON.readTree(model.inputMessages()),
                "TensorZero's stored messages; consecutive tool results are one user message");
        assertEquals(
                JSON.readTree("[{\"type\":\"text\",\"text\":\"It is sunny.\"},{\"type\":\"tool_call\","
                        + "\"id\":\"call_1\",\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]"),
                JSON.readTree(model.output()),
                "the model's output as the provider gave it: tool arguments as text");

        assertEquals("weather_bot", chat.functionName());
        assertEquals(EPISODE, chat.episodeId());
        assertEquals(Map.of("user", "u1"), chat.tags());
        assertEquals("Be brief.\nUse tools.", chat.input().get("system").asText());
        assertEquals(JSON.readTree(model.inputMessages()), chat.input().get("messages"));
        JsonNode toolCall = chat.output().get(1);
        assertEquals("Paris", toolCall.get("arguments").get("city").asText(), "parsed arguments");
        assertEquals("{\"city\":\"Paris\"}", toolCall.get("raw_arguments").asText());
        assertEquals(
                JSON.readTree("{\"chat_completion\":{\"temperature\":0.5,\"max_tokens\":100}}"),
                chat.inferenceParams());
        JsonNode tools = chat.toolParams();
        assertEquals("weather", tools.get("tools_available").get(0).get("name").asText());
        assertEquals("auto", tools.get("tool_choice").asText());
        assertEquals(250L, chat.processingTimeMs());

        JsonNode raw = JSON.readTree(model.rawRequest());
        assertEquals("gpt-4o-mini", raw.get("model").asText());
        assertEquals(0.5, raw.get("temperature").asDouble());
        assertEquals("weather", raw.get("tools").get(0).get("name").asText());
    }

    @Test
    void aPlainCallHasNoToolParamsNoParamsAndAResponseBodyOfItsOwn() throws Exception {
        ChatRequest request =
                ChatRequest.builder().messages(UserMessage.from("Hi")).build();
        ChatResponse response = ChatResponse.builder()
                .aiMessage(AiMessage.from("Hello."))
                .modelName("m-1")
                .build();
        CallAttributes attributes = new CallAttributes("f", "v", EPISODE, null, null, null);
        List<InferenceRecord> records = TensorZeroRecords.of(
                request, response, null, attributes, List.of(CHAT_ID, MODEL_ID).iterator()::next);
        ModelInference model = (ModelInference) records.get(0);
        ChatInference chat = (ChatInference) records.get(1);
        assertEquals("m-1", model.modelName(), "from the response when the request named none");
        assertEquals("unknown", model.modelProviderName());
        assertNull(model.inputTokens());
        assertNull(model.finishReason());
        assertNull(chat.toolParams());
        assertNull(chat.inferenceParams());
        assertNull(chat.tags());
        assertNull(model.system());
        JsonNode raw = JSON.readTree(model.rawResponse());
        assertEquals("m-1", raw.get("model").asText());
        assertEquals("Hello.", raw.get("output").get(0).get("text").asText());
    }

    /**
     * TensorZero's {@code Usage} holds {@code Option<u32>} per count: a count the provider reported is stored,
     * 0 included, and one it did not report is {@code None}, written as null (its streaming aggregation keeps
     * a field null when no chunk reported it). LangChain4j gives an unreported count as null: so 0 stays 0,
     * null stays null, per field.
     */
    @Test
    void tokenCountsAreStoredAsReportedZeroIncludedAndUnreportedOnesAreNull() throws Exception {
        ChatRequest request =
                ChatRequest.builder().messages(UserMessage.from("Hi")).build();
        CallAttributes attributes = new CallAttributes("f", "v", EPISODE, null, null, null);
        Map<String, List<Long>> cases = new LinkedHashMap<>();
        cases.put("reported zeros", Arrays.asList(0L, 0L));
        cases.put("input only", Arrays.asList(12L, null));
        cases.put("output only", Arrays.asList(null, 5L));
        cases.put("a usage with neither", Arrays.asList(null, null));
        for (Map.Entry<String, List<Long>> c : cases.entrySet()) {
            Long in = c.getValue().get(0);
            Long out = c.getValue().get(1);
            ChatResponse response = ChatResponse.builder()
                    .aiMessage(AiMessage.from("Hello."))
                    .modelName("m-1")
                    .tokenUsage(new TokenUsage(in == null ? null : in.intValue(), out == null ? null : out.intValue()))
                    .build();
            ModelInference model = (ModelInference) TensorZeroRecords.of(
                            request,
                            response,
                            null,
                            attributes,
                            List.of(CHAT_ID, MODEL_ID).iterator()::next)
                    .get(0);
            assertEquals(in, model.inputTokens(), c.getKey() + ": input_tokens");
            assertEquals(out, model.outputTokens(), c.getKey() + ": output_tokens");
        }
    }

    @Test
    void callAttributesFallBackToTheListenersFunctionTheModelAndANewEpisode() {
        UUID fresh = UUID.fromString("0192f3a1-6a00-7000-8000-00000000000f");
        CallAttributes none = CallAttributes.of(Map.of(), "default_fn", "gpt", 0, () -> fresh);
        assertEquals(new CallAttributes("default_fn", "gpt", fresh, null, null, null), none);

        CallAttributes given = CallAttributes.of(
                Map.of(
                        ForwardingChatModelListener.FUNCTION_NAME,
                        "f",
                        ForwardingChatModelListener.VARIANT_NAME,
                        "v",
                        ForwardingChatModelListener.EPISODE_ID,
                        EPISODE.toString(),
                        ForwardingChatModelListener.TAGS,
                        Map.of("k", 1),
                        CallAttributes.STARTED_NANOS,
                        1_000_000L),
                "default_fn",
                "gpt",
                251_000_000L,
                () -> fresh);
        assertEquals(new CallAttributes("f", "v", EPISODE, Map.of("k", "1"), 250L, null), given);

        CallAttributes badEpisode = CallAttributes.of(
                Map.of(ForwardingChatModelListener.EPISODE_ID, "not-a-uuid"), "d", "m", 0, () -> fresh);
        assertEquals(fresh, badEpisode.episode(), "a bad episode id starts a new episode");
    }
}
