package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import dev.langchain4j.service.UserMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real LangChain4j AI Service with a tool, against the stub OpenAI server and a real broker: the model calls
 * of one invocation (the tool call and the answer after it) share an episode and are recorded under
 * {@code Interface.method}; another invocation is another episode; a direct model call is untouched.
 */
@KafkaTest
class AiServicesIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    interface WeatherAssistant {
        @SystemMessage("You answer questions about the weather.")
        String ask(@UserMessage String question);

        @SystemMessage("You answer questions about the weather.")
        String askWith(@UserMessage String question, InvocationParameters parameters);
    }

    static final class WeatherTools {
        @Tool(name = "get_weather", value = "The weather in a city")
        String weather(@P("the city") String city) {
            return "sunny, 21 °C in " + city;
        }
    }

    @Test
    void theCallsOfOneInvocationShareAnEpisodeUnderInterfaceAndMethod(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "ais" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .build();
        UUID conversation = UUID.fromString("0192f3a1-6a00-7000-8000-00000000c0de");
        try (StubOpenAi stub = new StubOpenAi();
                Forwarder forwarder = Forwarder.start(config)) {
            ForwardingChatModelListener listener = new ForwardingChatModelListener(forwarder);
            ChatModel model = stub.chatModel(listener);
            WeatherAssistant assistant = AiServices.builder(WeatherAssistant.class)
                    .chatModel(model)
                    .tools(new WeatherTools())
                    .registerListeners(listener.aiServiceListeners())
                    .build();

            assertEquals("It is sunny in Paris.", assistant.ask("What is the weather in Paris?")); // 2 calls
            assertEquals("It is sunny in Paris.", assistant.ask("And in Paris tomorrow?")); // 2 more
            assertEquals(
                    "It is sunny in Paris.",
                    assistant.askWith(
                            "Paris again?",
                            InvocationParameters.from(Map.of(
                                    ForwardingChatModelListener.EPISODE_ID, conversation.toString(),
                                    ForwardingChatModelListener.TAGS, Map.of("user", "u-17"))))); // 2 more
            model.chat("Hello"); // a direct call, after the invocations, on the same thread
        }
        List<JsonNode> chats = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r :
                TopicReader.readAll(broker.clientProperties(), DataType.CHAT_INFERENCE.topic(prefix), 7)) {
            assertEquals(
                    Optional.empty(),
                    Forwarder.validate(DataType.CHAT_INFERENCE, r.value()),
                    new String(r.value(), StandardCharsets.UTF_8));
            chats.add(JSON.readTree(r.value()));
        }
        assertEquals(7, chats.size());
        Map<String, List<JsonNode>> byEpisode = new LinkedHashMap<>();
        for (JsonNode chat : chats) {
            byEpisode
                    .computeIfAbsent(chat.get("episode_id").asText(), e -> new ArrayList<>())
                    .add(chat);
        }
        assertEquals(4, byEpisode.size(), "three invocations and one direct call: " + byEpisode.keySet());
        // Kafka keeps no order across partitions: the groups are told apart by what they hold.
        List<List<JsonNode>> asked = new ArrayList<>();
        List<JsonNode> askedWith = null;
        JsonNode direct = null;
        for (List<JsonNode> group : byEpisode.values()) {
            String function = group.get(0).get("function_name").asText();
            if (function.equals(ForwardingChatModelListener.DEFAULT_FUNCTION_NAME)) {
                assertEquals(1, group.size(), "the direct call has an episode of its own");
                direct = group.get(0);
            } else if (function.equals("WeatherAssistant.askWith")) {
                askedWith = group;
            } else {
                assertEquals("WeatherAssistant.ask", function);
                asked.add(group);
            }
        }
        assertEquals(2, asked.size(), "two invocations of ask, two episodes");
        assertTrue(askedWith != null && direct != null, byEpisode.toString());
        List<List<JsonNode>> invocations = new ArrayList<>(asked);
        invocations.add(askedWith);
        for (List<JsonNode> invocation : invocations) {
            assertEquals(2, invocation.size(), "the tool call and the answer after it share the episode");
            String method = invocation.get(0).get("function_name").asText().substring("WeatherAssistant.".length());
            for (JsonNode chat : invocation) {
                assertEquals(
                        "WeatherAssistant." + method, chat.get("function_name").asText());
                JsonNode tags = chat.get("tags");
                assertEquals(
                        WeatherAssistant.class.getName(),
                        tags.get(AiServiceCalls.TAG_SERVICE).asText(),
                        tags.toString());
                assertEquals(method, tags.get(AiServiceCalls.TAG_METHOD).asText());
                assertEquals(7, UUID.fromString(chat.get("episode_id").asText()).version(), "a UUIDv7 episode");
            }
            assertTrue(
                    invocation.stream().anyMatch(c -> c.get("output").toString().contains("\"tool_call\"")),
                    "one of the two is the tool call: " + invocation);
        }
        assertEquals(conversation.toString(), askedWith.get(0).get("episode_id").asText(), "the invocation's own");
        assertEquals("u-17", askedWith.get(0).get("tags").get("user").asText());
        assertTrue(
                !direct.path("tags").has(AiServiceCalls.TAG_SERVICE), "the direct call is no AI Service's: " + direct);
    }
}
