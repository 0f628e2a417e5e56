package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.InferenceRecord;
import dev.forwarder.internal.json.EventCodec;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The listener's two records of a call, byte for byte as they are published (the codec's serialisation), against
 * files written by the listener of 2026-11-30 before its records were made faster (ab2d303): text with quotes,
 * backslashes, control characters, non-Latin scripts, an emoji and a lone surrogate, tools and tool results,
 * thinking, parameters and tags. Set {@code -Dgolden.write=true} to write the files again (only when the records
 * are meant to change).
 */
class ListenerRecordsGoldenTest {

    private static final UUID EPISODE = UUID.fromString("0192f3a1-6a00-7000-8000-0123456789ab");
    private static final UUID MODEL_ID = UUID.fromString("0192f3a1-6a00-7000-8000-000000000001");
    private static final UUID CHAT_ID = UUID.fromString("0192f3a1-6a00-7000-8000-000000000002");

    @ParameterizedTest
    @ValueSource(strings = {"tools", "support", "awkward_text", "plain"})
    void theRecordsOfACallAreTheSameBytesAsBefore(String name) throws Exception {
        List<InferenceRecord> records = records(name);
        EventCodec codec = new EventCodec();
        String actual = new String(codec.serialize(records.get(0)), StandardCharsets.UTF_8) + "\n"
                + new String(codec.serialize(records.get(1)), StandardCharsets.UTF_8) + "\n";
        String resource = "/listener-golden/" + name + ".json";
        if (Boolean.getBoolean("golden.write")) {
            Path file = Path.of("src/test/resources" + resource);
            Files.writeString(file, actual, StandardCharsets.UTF_8);
        }
        assertEquals(read(resource), actual, name);
    }

    private static String read(String resource) throws IOException {
        try (InputStream in = ListenerRecordsGoldenTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(resource + " is missing: write it with -Dgolden.write=true");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<InferenceRecord> records(String name) throws Exception {
        ChatRequest request;
        ChatResponse response;
        CallAttributes call;
        switch (name) {
            case "tools" -> {
                request = TensorZeroRecordsTest.toolRequest();
                response = TensorZeroRecordsTest.toolResponse();
                call = new CallAttributes("weather_bot", "gpt-4o-mini", EPISODE, Map.of("user", "u1"), 250L, 40L);
            }
            case "support" -> {
                request = ChatRequest.builder()
                        .messages(
                                SystemMessage.from("You are the customer support assistant of a shoe shop."),
                                UserMessage.from("I ordered a pair of running shoes three weeks ago and the tracking "
                                        + "page has said 'label created' ever since. The order number is 48213-77."))
                        .parameters(ChatRequestParameters.builder()
                                .modelName("gpt-4o-mini")
                                .temperature(0.2)
                                .maxOutputTokens(400)
                                .topP(0.9)
                                .stopSequences(List.of("END", "STOP"))
                                .build())
                        .build();
                response = ChatResponse.builder()
                        .aiMessage(AiMessage.from("I am sorry about the delay. Order 48213-77 never left our "
                                + "warehouse: the carrier did not collect it."))
                        .id("chatcmpl-B7")
                        .modelName("gpt-4o-mini-2024-07-18")
                        .tokenUsage(new TokenUsage(96, 82))
                        .finishReason(FinishReason.STOP)
                        .build();
                call = new CallAttributes("support_bot", "gpt-4o-mini", EPISODE, null, 1234L, null);
            }
            case "awkward_text" -> {
                String text = "Quote \" backslash \\ slash / tab \t newline \n bell \u0007 DEL \u007f "
                        + "é ü ß 漢字 русский العربية emoji 😀 lone \uD83D end, line sep \u2028 BOM \uFEFF";
                ToolExecutionRequest call1 = ToolExecutionRequest.builder()
                        .id("call_é")
                        .name("lookup")
                        .arguments("{\"q\":\"" + "naïve \\\"quoted\\\"" + "\"}")
                        .build();
                request = ChatRequest.builder()
                        .messages(
                                SystemMessage.from(text),
                                UserMessage.from(text),
                                AiMessage.from(text, List.of(call1)),
                                UserMessage.from("again: " + text))
                        .build();
                response = ChatResponse.builder()
                        .aiMessage(AiMessage.builder()
                                .text(text)
                                .thinking("thinking about " + text)
                                .toolExecutionRequests(List.of(call1))
                                .build())
                        .modelName("m-ü")
                        .finishReason(FinishReason.LENGTH)
                        .build();
                call = new CallAttributes("f", "v", EPISODE, Map.of("tag", text), 5L, 2L);
            }
            default -> {
                request = ChatRequest.builder().messages(UserMessage.from("Hi")).build();
                response = ChatResponse.builder()
                        .aiMessage(AiMessage.from("Hello."))
                        .modelName("m-1")
                        .build();
                call = new CallAttributes("f", "v", EPISODE, null, null, null);
            }
        }
        return TensorZeroRecords.of(
                request,
                response,
                ModelProvider.OPEN_AI,
                call,
                List.of(CHAT_ID, MODEL_ID).iterator()::next);
    }
}
