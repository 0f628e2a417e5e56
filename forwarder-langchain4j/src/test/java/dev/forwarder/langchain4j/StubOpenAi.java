package dev.forwarder.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A stub of OpenAI's chat completions endpoint on loopback (the JDK's HTTP server), answering with recorded
 * bodies: a text answer, a tool call (when a tool is offered and the last message is the user's), a streamed
 * answer over server-sent events (after {@link #FIRST_TOKEN_DELAY_MS}), and a 500 when the user message
 * contains "fail".
 */
final class StubOpenAi implements AutoCloseable {

    static final int FIRST_TOKEN_DELAY_MS = 120;
    static final String ANSWER = "{\"id\":\"chatcmpl-A1\",\"object\":\"chat.completion\",\"created\":1764200000,"
            + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"%s\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":7,\"total_tokens\":28},"
            + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_0ba0d124f1\"}";
    static final String TOOL_CALL = "{\"id\":\"chatcmpl-A2\",\"object\":\"chat.completion\",\"created\":1764200001,"
            + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":null,\"tool_calls\":[{\"id\":\"call_Wx81\",\"type\":\"function\",\"function\":"
            + "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}],\"refusal\":null},"
            + "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
            + "\"usage\":{\"prompt_tokens\":64,\"completion_tokens\":15,\"total_tokens\":79}}";
    static final List<String> STREAM = List.of(
            "{\"id\":\"chatcmpl-A3\",\"object\":\"chat.completion.chunk\",\"created\":1764200002,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
            "{\"id\":\"chatcmpl-A3\",\"object\":\"chat.completion.chunk\",\"created\":1764200002,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"},\"finish_reason\":null}]}",
            "{\"id\":\"chatcmpl-A3\",\"object\":\"chat.completion.chunk\",\"created\":1764200002,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tout le monde\"},\"finish_reason\":null}]}",
            "{\"id\":\"chatcmpl-A3\",\"object\":\"chat.completion.chunk\",\"created\":1764200002,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}",
            "{\"id\":\"chatcmpl-A3\",\"object\":\"chat.completion.chunk\",\"created\":1764200002,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4,\"total_tokens\":16}}");
    static final String ERROR = "{\"error\":{\"message\":\"The server had an error while processing your request.\","
            + "\"type\":\"server_error\",\"param\":null,\"code\":null}}";

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    final List<JsonNode> requests = new CopyOnWriteArrayList<>();

    StubOpenAi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** LangChain4j's OpenAI chat model pointed at this stub, with {@code listener} and no retries. */
    ChatModel chatModel(ChatModelListener listener) {
        return OpenAiChatModel.builder()
                .baseUrl(baseUrl())
                .apiKey("sk-test")
                .modelName("gpt-4o-mini")
                .maxRetries(0)
                .listeners(List.of(listener))
                .build();
    }

    /** LangChain4j's OpenAI streaming chat model pointed at this stub, with {@code listener}. */
    StreamingChatModel streamingModel(ChatModelListener listener) {
        return OpenAiStreamingChatModel.builder()
                .baseUrl(baseUrl())
                .apiKey("sk-test")
                .modelName("gpt-4o-mini")
                .listeners(List.of(listener))
                .build();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            requests.add(request);
            JsonNode messages = request.get("messages");
            JsonNode last = messages.get(messages.size() - 1);
            String lastText = last.path("content").isTextual()
                    ? last.path("content").asText()
                    : last.path("content").toString();
            if (lastText.contains("fail")) {
                send(exchange, 500, "application/json", ERROR);
            } else if (request.path("stream").asBoolean()) {
                exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                sleep(FIRST_TOKEN_DELAY_MS);
                for (String chunk : STREAM) {
                    out.write(("data: " + chunk + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    sleep(20);
                }
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            } else if (request.has("tools") && last.path("role").asText().equals("user")) {
                send(exchange, 200, "application/json", TOOL_CALL);
            } else {
                String answer = last.path("role").asText().equals("tool") ? "It is sunny in Paris." : "Paris.";
                send(exchange, 200, "application/json", String.format(ANSWER, answer));
            }
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
