package dev.forwarder.langchain4j;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.ChatRequestOptions;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real LangChain4j OpenAI chat models, pointed at a stub OpenAI server on loopback, with the listener
 * registered: every successful call lands in Kafka as a model and a chat inference of TensorZero's shape; a
 * failed call records nothing and counts one error.
 */
@KafkaTest
class ForwardingChatModelListenerIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final UUID EPISODE = UUID.fromString("0192f3a1-6a00-7000-8000-0123456789ab");

    @Test
    void everyCallLandsAsALinkedModelAndChatInference(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "lc" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .build();
        String metrics;
        try (StubOpenAi stub = new StubOpenAi();
                Forwarder forwarder = Forwarder.start(config)) {
            ForwardingChatModelListener listener = new ForwardingChatModelListener(forwarder, "weather_bot");
            ChatModel model = OpenAiChatModel.builder()
                    .baseUrl(stub.baseUrl())
                    .apiKey("sk-test")
                    .modelName("gpt-4o-mini")
                    .temperature(0.3)
                    .maxTokens(100)
                    .seed(42)
                    .maxRetries(0)
                    .listeners(List.of(listener))
                    .build();
            StreamingChatModel streaming = stub.streamingModel(listener);

            // 1. A plain answer, with the function, episode and tags given per call.
            ChatResponse paris = model.chat(
                    ChatRequest.builder()
                            .messages(
                                    SystemMessage.from("You are a geography tutor."),
                                    UserMessage.from("What is the capital of France?"))
                            .build(),
                    ChatRequestOptions.builder()
                            .addListenerAttribute(ForwardingChatModelListener.FUNCTION_NAME, "geography")
                            .addListenerAttribute(ForwardingChatModelListener.EPISODE_ID, EPISODE.toString())
                            .addListenerAttribute(ForwardingChatModelListener.TAGS, Map.of("user", "u-17"))
                            .build());
            assertEquals("Paris.", paris.aiMessage().text());

            // 2. A tool call, and 3. the answer after the tool's result.
            ToolSpecification weather = ToolSpecification.builder()
                    .name("get_weather")
                    .description("The weather in a city")
                    .parameters(JsonObjectSchema.builder()
                            .addStringProperty("city", "the city")
                            .required("city")
                            .build())
                    .build();
            UserMessage question = UserMessage.from("What is the weather in Paris?");
            ChatResponse call = model.chat(ChatRequest.builder()
                    .messages(question)
                    .toolSpecifications(weather)
                    .build());
            assertTrue(call.aiMessage().hasToolExecutionRequests());
            ChatResponse sunny = model.chat(ChatRequest.builder()
                    .messages(
                            question,
                            call.aiMessage(),
                            ToolExecutionResultMessage.from(
                                    call.aiMessage().toolExecutionRequests().get(0), "sunny, 21 °C"))
                    .toolSpecifications(weather)
                    .build());
            assertEquals("It is sunny in Paris.", sunny.aiMessage().text());

            // 4. A streamed answer, watched by the listener for its first token.
            CompletableFuture<ChatResponse> streamed = new CompletableFuture<>();
            List<String> tokens = new ArrayList<>();
            listener.chat(
                    streaming,
                    ChatRequest.builder()
                            .messages(UserMessage.from("Say hello in French"))
                            .build(),
                    Map.of(ForwardingChatModelListener.VARIANT_NAME, "streaming"),
                    new StreamingChatResponseHandler() {
                        @Override
                        public void onPartialResponse(String partialResponse) {
                            tokens.add(partialResponse);
                        }

                        @Override
                        public void onCompleteResponse(ChatResponse response) {
                            streamed.complete(response);
                        }

                        @Override
                        public void onError(Throwable error) {
                            streamed.completeExceptionally(error);
                        }
                    });
            assertEquals(
                    "Bonjour tout le monde",
                    streamed.get(30, TimeUnit.SECONDS).aiMessage().text());
            assertEquals(List.of("Bonjour", " tout le monde"), tokens, "the application's handler saw every token");

            // 5. A call the provider fails: nothing recorded, one error counted.
            assertThrows(RuntimeException.class, () -> model.chat("please fail"));
            assertEquals(5, stub.requests.size());

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> forwarder.status().delivered() >= 8);
            assertEquals(8, forwarder.status().appended(), "two records per successful call, none for the failure");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            forwarder.writePrometheus(out);
            metrics = out.toString(StandardCharsets.UTF_8);
        }
        PrometheusText parsed = PrometheusText.parse(metrics);
        assertEquals(1, (int) parsed.value("forwarder_langchain4j_errors_total", Map.of("provider", "openai")));
        assertEquals(0, (int) parsed.value("forwarder_langchain4j_recording_failures_total"));

        List<JsonNode> models = read(broker, DataType.MODEL_INFERENCE.topic(prefix), DataType.MODEL_INFERENCE, 4);
        List<JsonNode> chats = read(broker, DataType.CHAT_INFERENCE.topic(prefix), DataType.CHAT_INFERENCE, 4);
        assertEquals(4, models.size());
        assertEquals(4, chats.size());

        // Ids are UUIDv7; inference_id links each model inference to exactly one chat inference.
        Map<String, JsonNode> chatById = new HashMap<>();
        for (JsonNode chat : chats) {
            assertEquals(7, UUID.fromString(chat.get("id").asText()).version(), chat.toString());
            assertEquals(7, UUID.fromString(chat.get("episode_id").asText()).version(), chat.toString());
            chatById.put(chat.get("id").asText(), chat);
        }
        Set<String> linked = new HashSet<>();
        Map<String, JsonNode[]> byAnswer = new HashMap<>();
        for (JsonNode model : models) {
            assertEquals(7, UUID.fromString(model.get("id").asText()).version(), model.toString());
            JsonNode chat = chatById.get(model.get("inference_id").asText());
            assertNotNull(chat, "no chat inference for " + model);
            assertTrue(linked.add(model.get("inference_id").asText()), "two model inferences for one chat inference");
            assertEquals(chat.get("function_name"), model.get("function_name"));
            assertEquals(chat.get("variant_name"), model.get("variant_name"));
            assertEquals("openai", model.get("model_provider_name").asText());
            assertEquals("gpt-4o-mini", model.get("model_name").asText());
            assertFalse(model.get("cached").asBoolean());
            assertTrue(model.get("response_time_ms").asLong() >= 0);
            assertEquals(model.get("response_time_ms"), chat.get("processing_time_ms"));
            byAnswer.put(
                    chat.get("output")
                            .get(0)
                            .path("text")
                            .asText(chat.get("output").get(0).path("type").asText()),
                    new JsonNode[] {model, chat});
        }

        // 1. The plain answer.
        JsonNode[] plain = byAnswer.get("Paris.");
        assertEquals("geography", plain[1].get("function_name").asText());
        assertEquals("gpt-4o-mini", plain[1].get("variant_name").asText());
        assertEquals(EPISODE.toString(), plain[1].get("episode_id").asText());
        assertEquals(Map.of("user", "u-17"), JSON.convertValue(plain[1].get("tags"), Map.class));
        assertEquals(
                JSON.readTree("{\"system\":\"You are a geography tutor.\",\"messages\":[{\"role\":\"user\","
                        + "\"content\":[{\"type\":\"text\",\"text\":\"What is the capital of France?\"}]}]}"),
                plain[1].get("input"));
        assertEquals(JSON.readTree("[{\"type\":\"text\",\"text\":\"Paris.\"}]"), plain[1].get("output"));
        assertEquals(
                JSON.readTree("{\"chat_completion\":{\"temperature\":0.3,\"max_tokens\":100,\"seed\":42}}"),
                plain[1].get("inference_params"));
        assertFalse(plain[1].has("tool_params"));
        assertFalse(plain[1].has("ttft_ms"));
        assertEquals(
                String.format(StubOpenAi.ANSWER, "Paris."),
                plain[0].get("raw_response").asText(),
                "the provider's own response body");
        assertEquals("You are a geography tutor.", plain[0].get("system").asText());
        assertEquals(
                JSON.readTree(
                        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is the capital of France?\"}]}]"),
                JSON.readTree(plain[0].get("input_messages").asText()));
        assertEquals(
                JSON.readTree("[{\"type\":\"text\",\"text\":\"Paris.\"}]"),
                JSON.readTree(plain[0].get("output").asText()));
        assertEquals(21, plain[0].get("input_tokens").asInt());
        assertEquals(7, plain[0].get("output_tokens").asInt());
        assertEquals("stop", plain[0].get("finish_reason").asText());
        JsonNode rawRequest = JSON.readTree(plain[0].get("raw_request").asText());
        assertEquals("gpt-4o-mini", rawRequest.get("model").asText());
        assertEquals(0.3, rawRequest.get("temperature").asDouble());

        // 2. The tool call.
        JsonNode[] tool = byAnswer.get("tool_call");
        assertEquals("weather_bot", tool[1].get("function_name").asText());
        assertEquals(
                JSON.readTree(
                        "[{\"type\":\"tool_call\",\"arguments\":{\"city\":\"Paris\"},\"id\":\"call_Wx81\","
                                + "\"name\":\"get_weather\",\"raw_arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\",\"raw_name\":\"get_weather\"}]"),
                tool[1].get("output"));
        JsonNode offered = tool[1].get("tool_params").get("tools_available").get(0);
        assertEquals("get_weather", offered.get("name").asText());
        assertEquals("The weather in a city", offered.get("description").asText());
        assertEquals(
                "string",
                offered.get("parameters")
                        .get("properties")
                        .get("city")
                        .get("type")
                        .asText());
        assertEquals("city", offered.get("parameters").get("required").get(0).asText());
        assertEquals("auto", tool[1].get("tool_params").get("tool_choice").asText());
        assertEquals("tool_call", tool[0].get("finish_reason").asText());
        assertEquals(
                JSON.readTree("[{\"type\":\"tool_call\",\"id\":\"call_Wx81\",\"name\":\"get_weather\","
                        + "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]"),
                JSON.readTree(tool[0].get("output").asText()));

        // 3. After the tool's result: the tool call and its result are in the input.
        JsonNode[] after = byAnswer.get("It is sunny in Paris.");
        assertEquals(
                JSON.readTree(
                        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is the weather in Paris?\"}]},"
                                + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_call\",\"id\":\"call_Wx81\",\"name\":\"get_weather\","
                                + "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]},"
                                + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"id\":\"call_Wx81\",\"name\":\"get_weather\","
                                + "\"result\":\"sunny, 21 °C\"}]}]"),
                after[1].get("input").get("messages"));

        // 4. The stream: ttft_ms from the watched first token, the server-sent events as the raw response.
        JsonNode[] stream = byAnswer.get("Bonjour tout le monde");
        assertEquals("streaming", stream[1].get("variant_name").asText());
        long ttft = stream[0].get("ttft_ms").asLong();
        assertTrue(ttft >= StubOpenAi.FIRST_TOKEN_DELAY_MS, "ttft_ms " + ttft + " before the stub's first token");
        assertTrue(stream[0].get("response_time_ms").asLong() >= ttft);
        assertEquals(ttft, stream[1].get("ttft_ms").asLong());
        assertEquals("length", stream[0].get("finish_reason").asText());
        assertEquals(12, stream[0].get("input_tokens").asInt());
        assertEquals(4, stream[0].get("output_tokens").asInt());
        assertEquals(
                String.join("\n", StubOpenAi.STREAM),
                stream[0].get("raw_response").asText());
    }

    /** The topic's records, each checked by the event model's strict codec. */
    private static List<JsonNode> read(KafkaBroker broker, String topic, DataType type, int expected) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : TopicReader.readAll(broker.clientProperties(), topic, expected)) {
            assertEquals(
                    Optional.empty(),
                    Forwarder.validate(type, record.value()),
                    new String(record.value(), StandardCharsets.UTF_8));
            out.add(JSON.readTree(record.value()));
        }
        return out;
    }
}
