package dev.forwarder.langchain4j;

import com.codahale.metrics.Counter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.forwarder.ChatInference;
import dev.forwarder.FinishReason;
import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatRequestOptions;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelErrorContext;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.TokenUsage;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A LangChain4j {@link ChatModelListener} that records every successful chat model call as TensorZero's two
 * records, a {@link ModelInference} (the call to the provider) and a {@link ChatInference} (the function's
 * result), linked by {@code inference_id}, and publishes them through a {@link Forwarder}: into the spool,
 * never waiting on Kafka, never throwing into LangChain4j.
 *
 * <pre>{@code
 * ChatModel model = OpenAiChatModel.builder().apiKey(key).modelName("gpt-4o-mini")
 *         .listeners(List.of(new ForwardingChatModelListener(forwarder)))
 *         .build();
 * }</pre>
 *
 * <p>Per call, through the request's listener attributes ({@code ChatRequestOptions}): {@link #FUNCTION_NAME},
 * {@link #VARIANT_NAME} (default: the configured function name, and the model name), {@link #EPISODE_ID}
 * (a UUID or its text; default: a new episode per call) and {@link #TAGS} (a map). A failed call records
 * nothing, as TensorZero, and counts one {@code langchain4j_errors{provider}}. {@code ttft_ms} is known only
 * for a stream this listener watches: {@link #chat(StreamingChatModel, ChatRequest, Map, StreamingChatResponseHandler)}.
 */
public final class ForwardingChatModelListener implements ChatModelListener {

    /** Listener attribute: the TensorZero function name of this call. */
    public static final String FUNCTION_NAME = "tensorzero.function_name";
    /** Listener attribute: the variant name of this call. */
    public static final String VARIANT_NAME = "tensorzero.variant_name";
    /** Listener attribute: the episode this call belongs to (a {@link UUID} or its text). */
    public static final String EPISODE_ID = "tensorzero.episode_id";
    /** Listener attribute: tags of this call, a {@code Map} of strings. */
    public static final String TAGS = "tensorzero.tags";
    /** TensorZero's function for calls made to a model directly. */
    public static final String DEFAULT_FUNCTION_NAME = "tensorzero::default";

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingChatModelListener.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final TimeBasedEpochGenerator IDS = Generators.timeBasedEpochGenerator();
    /** Attribute keys private to this listener (not strings, so no application key can collide). */
    private static final Object STARTED_NANOS = new Object();

    private static final Object STREAM = new Object();

    private final Forwarder forwarder;
    private final String functionName;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Counter failures;

    /** Records calls under {@link #DEFAULT_FUNCTION_NAME}. */
    public ForwardingChatModelListener(Forwarder forwarder) {
        this(forwarder, DEFAULT_FUNCTION_NAME);
    }

    /** Records calls under this function name, unless a call's {@link #FUNCTION_NAME} attribute says another. */
    public ForwardingChatModelListener(Forwarder forwarder, String functionName) {
        if (functionName == null || functionName.isBlank()) {
            throw new IllegalArgumentException("functionName must not be blank");
        }
        this.forwarder = forwarder;
        this.functionName = functionName;
        this.failures = forwarder.counter("langchain4j_recording_failures", Map.of());
    }

    @Override
    public void onRequest(ChatModelRequestContext context) {
        try {
            context.attributes().put(STARTED_NANOS, System.nanoTime());
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void onResponse(ChatModelResponseContext context) {
        long now = System.nanoTime();
        try {
            record(context, now);
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError error) {
                throw error;
            }
            failed(t);
        }
    }

    @Override
    public void onError(ChatModelErrorContext context) {
        try {
            String provider = providerName(context.modelProvider());
            errors.computeIfAbsent(provider, p -> forwarder.counter("langchain4j_errors", Map.of("provider", p)))
                    .inc();
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /**
     * Streams a chat through the model and records it with {@code ttft_ms}, the time from the request to
     * the first token (text, thinking or tool call) this handler saw. LangChain4j's listeners are not told
     * of partial responses; this is the way to know when the first one came.
     *
     * @param attributes listener attributes of this call ({@link #FUNCTION_NAME} and the others), may be empty
     */
    public void chat(
            StreamingChatModel model,
            ChatRequest request,
            Map<Object, Object> attributes,
            StreamingChatResponseHandler handler) {
        Stream stream = new Stream();
        Map<Object, Object> all = new LinkedHashMap<>(attributes);
        all.put(STREAM, stream);
        model.chat(request, ChatRequestOptions.builder().listenerAttributes(all).build(), stream.watching(handler));
    }

    // ---- the records ----

    /**
     * The two records a response becomes, as {@link #onResponse} publishes them: the model inference, then
     * the chat inference (with new ids each time). Timings are measured to now.
     */
    public List<InferenceRecord> records(ChatModelResponseContext context) {
        try {
            return records(context, System.nanoTime());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a record could not be written as JSON", e);
        }
    }

    private void record(ChatModelResponseContext context, long nowNanos) throws Exception {
        for (InferenceRecord record : records(context, nowNanos)) {
            forwarder.publish(record);
        }
    }

    private List<InferenceRecord> records(ChatModelResponseContext context, long nowNanos)
            throws com.fasterxml.jackson.core.JsonProcessingException {
        Map<Object, Object> attributes = context.attributes();
        ChatRequest request = context.chatRequest();
        ChatResponse response = context.chatResponse();
        Long elapsedMs = null;
        Long ttftMs = null;
        if (attributes.get(STARTED_NANOS) instanceof Long started) {
            elapsedMs = (nowNanos - started) / 1_000_000;
            if (attributes.get(STREAM) instanceof Stream stream && stream.firstNanos != 0) {
                ttftMs = (stream.firstNanos - started) / 1_000_000;
            }
        }
        String modelName = firstNonBlank(request.modelName(), response.modelName(), "unknown");
        String function = attribute(attributes, FUNCTION_NAME).orElse(functionName);
        String variant = attribute(attributes, VARIANT_NAME).orElse(modelName);
        UUID episode = episode(attributes);
        Map<String, String> tags = tags(attributes);

        Input input = input(request.messages());
        UUID chatId = IDS.generate();
        UUID modelInferenceId = IDS.generate();
        TokenUsage usage = response.tokenUsage();
        ObjectNode params = inferenceParams(request.parameters());
        JsonNode toolParams = toolParams(request);

        ObjectNode chatInput = NODES.objectNode();
        if (input.system() != null) {
            chatInput.put("system", input.system());
        }
        chatInput.set("messages", input.messages());

        ModelInference model = new ModelInference(
                modelInferenceId,
                chatId,
                rawRequest(modelName, input, params, toolParams),
                rawResponse(response),
                input.system(),
                JSON.writeValueAsString(input.messages()),
                JSON.writeValueAsString(modelOutput(response.aiMessage())),
                modelName,
                providerName(context.modelProvider()),
                usage == null || usage.inputTokenCount() == null
                        ? null
                        : usage.inputTokenCount().longValue(),
                usage == null || usage.outputTokenCount() == null
                        ? null
                        : usage.outputTokenCount().longValue(),
                elapsedMs,
                ttftMs,
                false,
                finishReason(response.finishReason()),
                null,
                function,
                variant,
                null,
                null,
                null,
                null);
        ChatInference chat = new ChatInference(
                chatId,
                function,
                variant,
                episode,
                chatInput,
                chatOutput(response.aiMessage()),
                toolParams,
                params.isEmpty() ? null : chatCompletion(params),
                elapsedMs,
                ttftMs,
                tags,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        return List.of(model, chat);
    }

    /** The system text and the messages in TensorZero's stored shape (user and assistant, content blocks). */
    private record Input(String system, ArrayNode messages) {}

    private static Input input(List<ChatMessage> messages) {
        StringBuilder system = null;
        ArrayNode out = NODES.arrayNode();
        for (ChatMessage message : messages) {
            if (message instanceof SystemMessage s) {
                system = system == null
                        ? new StringBuilder(s.text())
                        : system.append('\n').append(s.text());
                continue;
            }
            String role;
            ArrayNode content = NODES.arrayNode();
            if (message instanceof UserMessage user) {
                role = "user";
                for (Content c : user.contents()) {
                    content.add(userContent(c));
                }
            } else if (message instanceof AiMessage ai) {
                role = "assistant";
                if (ai.text() != null) {
                    content.add(text(ai.text()));
                }
                for (ToolExecutionRequest call : ai.toolExecutionRequests()) {
                    content.add(NODES.objectNode()
                            .put("type", "tool_call")
                            .put("id", call.id())
                            .put("name", call.name())
                            .put("arguments", call.arguments()));
                }
            } else if (message instanceof ToolExecutionResultMessage result) {
                role = "user";
                content.add(NODES.objectNode()
                        .put("type", "tool_result")
                        .put("id", result.id())
                        .put("name", result.toolName())
                        .put("result", result.text()));
            } else {
                role = "user";
                content.add(NODES.objectNode()
                        .put("type", "unknown")
                        .set("data", NODES.objectNode().put("message_type", String.valueOf(message.type()))));
            }
            // Consecutive messages of one role are one TensorZero message (tool results after tool results).
            JsonNode last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.get("role").asText().equals(role)) {
                ((ArrayNode) last.get("content")).addAll(content);
            } else {
                ObjectNode m = out.addObject();
                m.put("role", role);
                m.set("content", content);
            }
        }
        return new Input(system == null ? null : system.toString(), out);
    }

    private static ObjectNode userContent(Content content) {
        if (content instanceof TextContent t) {
            return text(t.text());
        }
        if (content instanceof ImageContent image && image.image().url() != null) {
            return NODES.objectNode()
                    .put("type", "file")
                    .put("url", image.image().url().toString())
                    .put(
                            "mime_type",
                            Optional.ofNullable(image.image().mimeType()).orElse("image/*"));
        }
        // Audio, video, PDF, inline images: not carried (their bytes do not belong in an event record).
        return NODES.objectNode()
                .put("type", "unknown")
                .set("data", NODES.objectNode().put("content_type", String.valueOf(content.type())));
    }

    private static ObjectNode text(String text) {
        return NODES.objectNode().put("type", "text").put("text", text);
    }

    /** {@code chat_inference.output}: thought, text, and tool calls with parsed arguments (null if not JSON). */
    private static ArrayNode chatOutput(AiMessage ai) {
        return output(ai, true);
    }

    /** {@code model_inference.output}: as the provider gave it (tool arguments as text). */
    private static ArrayNode modelOutput(AiMessage ai) {
        return output(ai, false);
    }

    private static ArrayNode output(AiMessage ai, boolean parsedToolCalls) {
        ArrayNode out = NODES.arrayNode();
        if (ai == null) {
            return out;
        }
        if (ai.thinking() != null) {
            out.addObject().put("type", "thought").put("text", ai.thinking());
        }
        if (ai.text() != null) {
            out.add(text(ai.text()));
        }
        for (ToolExecutionRequest call : ai.toolExecutionRequests()) {
            ObjectNode block = out.addObject().put("type", "tool_call");
            if (parsedToolCalls) {
                block.set("arguments", parsedOrNull(call.arguments()));
                block.put("id", call.id())
                        .put("name", call.name())
                        .put("raw_arguments", call.arguments())
                        .put("raw_name", call.name());
            } else {
                block.put("id", call.id()).put("name", call.name()).put("arguments", call.arguments());
            }
        }
        return out;
    }

    private static JsonNode parsedOrNull(String json) {
        if (json == null) {
            return NODES.nullNode();
        }
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            return NODES.nullNode();
        }
    }

    /** TensorZero's {@code chat_completion} parameters that were set: temperature, max_tokens, seed... */
    private static ObjectNode inferenceParams(ChatRequestParameters p) {
        ObjectNode out = NODES.objectNode();
        if (p == null) {
            return out;
        }
        if (p.temperature() != null) {
            out.put("temperature", p.temperature());
        }
        if (p.maxOutputTokens() != null) {
            out.put("max_tokens", p.maxOutputTokens());
        }
        if (Reflected.value(p, "seed") instanceof Integer seed) {
            out.put("seed", seed);
        }
        if (p.topP() != null) {
            out.put("top_p", p.topP());
        }
        if (p.presencePenalty() != null) {
            out.put("presence_penalty", p.presencePenalty());
        }
        if (p.frequencyPenalty() != null) {
            out.put("frequency_penalty", p.frequencyPenalty());
        }
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            ArrayNode stops = out.putArray("stop_sequences");
            p.stopSequences().forEach(stops::add);
        }
        return out;
    }

    private static ObjectNode chatCompletion(ObjectNode params) {
        ObjectNode out = NODES.objectNode();
        out.set("chat_completion", params);
        return out;
    }

    /** TensorZero's {@code tool_params}: the tools offered and the tool choice; null without tools. */
    private static JsonNode toolParams(ChatRequest request) {
        List<ToolSpecification> tools = request.toolSpecifications();
        if (tools == null || tools.isEmpty()) {
            return null;
        }
        ObjectNode out = NODES.objectNode();
        ArrayNode available = out.putArray("tools_available");
        for (ToolSpecification tool : tools) {
            ObjectNode t = available.addObject();
            t.put("description", tool.description() == null ? "" : tool.description());
            t.set(
                    "parameters",
                    tool.parameters() == null
                            ? NODES.objectNode().put("type", "object").set("properties", NODES.objectNode())
                            : JSON.valueToTree(JsonSchemaElementUtils.toMap(tool.parameters())));
            t.put("name", tool.name());
            t.put("strict", false);
        }
        out.put(
                "tool_choice",
                request.toolChoice() == null
                        ? "auto"
                        : request.toolChoice().name().toLowerCase(Locale.ROOT));
        out.putNull("parallel_tool_calls");
        return out;
    }

    /**
     * LangChain4j does not expose the provider's request body: the request as JSON (model, system,
     * messages, parameters and tools, in the shapes above).
     */
    private static String rawRequest(String model, Input input, ObjectNode params, JsonNode toolParams)
            throws com.fasterxml.jackson.core.JsonProcessingException {
        ObjectNode out = NODES.objectNode();
        out.put("model", model);
        if (input.system() != null) {
            out.put("system", input.system());
        }
        out.set("messages", input.messages());
        out.setAll(params);
        if (toolParams != null) {
            out.set("tools", toolParams.get("tools_available"));
            out.set("tool_choice", toolParams.get("tool_choice"));
        }
        return JSON.writeValueAsString(out);
    }

    /**
     * The provider's own body where the model's metadata exposes it ({@code rawHttpResponse()}, or for a
     * stream the {@code data} of each server-sent event, one per line), else the response as JSON.
     */
    private static String rawResponse(ChatResponse response) throws com.fasterxml.jackson.core.JsonProcessingException {
        Object metadata = response.metadata();
        if (Reflected.value(metadata, "rawServerSentEvents") instanceof List<?> events && !events.isEmpty()) {
            StringBuilder out = new StringBuilder();
            for (Object event : events) {
                if (Reflected.value(event, "data") instanceof String data) {
                    out.append(out.length() == 0 ? "" : "\n").append(data);
                }
            }
            return out.toString();
        }
        if (Reflected.value(Reflected.value(metadata, "rawHttpResponse"), "body") instanceof String body
                && !body.isEmpty()) {
            return body;
        }
        ObjectNode out = NODES.objectNode();
        out.put("id", response.id());
        out.put("model", response.modelName());
        out.set("output", modelOutput(response.aiMessage()));
        out.put(
                "finish_reason",
                response.finishReason() == null ? null : response.finishReason().name());
        TokenUsage usage = response.tokenUsage();
        if (usage != null) {
            out.putObject("usage")
                    .put("input_tokens", usage.inputTokenCount())
                    .put("output_tokens", usage.outputTokenCount());
        }
        return JSON.writeValueAsString(out);
    }

    static FinishReason finishReason(dev.langchain4j.model.output.FinishReason reason) {
        if (reason == null) {
            return null;
        }
        return switch (reason) {
            case STOP -> FinishReason.STOP;
            case LENGTH -> FinishReason.LENGTH;
            case TOOL_EXECUTION -> FinishReason.TOOL_CALL;
            case CONTENT_FILTER -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.UNKNOWN;
        };
    }

    /** TensorZero's provider type names where there is one ({@code openai}, {@code anthropic}...). */
    static String providerName(ModelProvider provider) {
        if (provider == null) {
            return "unknown";
        }
        return switch (provider) {
            case OPEN_AI -> "openai";
            case AZURE_OPEN_AI -> "azure";
            case AMAZON_BEDROCK -> "aws_bedrock";
            case GOOGLE_AI_GEMINI -> "google_ai_studio_gemini";
            case GOOGLE_VERTEX_AI_GEMINI -> "gcp_vertex_gemini";
            case GOOGLE_VERTEX_AI_ANTHROPIC -> "gcp_vertex_anthropic";
            case MISTRAL_AI -> "mistral";
            default -> provider.name().toLowerCase(Locale.ROOT);
        };
    }

    private static Optional<String> attribute(Map<Object, Object> attributes, String key) {
        return attributes.get(key) instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    private static UUID episode(Map<Object, Object> attributes) {
        Object value = attributes.get(EPISODE_ID);
        if (value instanceof UUID id) {
            return id;
        }
        if (value != null) {
            try {
                return UUID.fromString(value.toString());
            } catch (IllegalArgumentException e) {
                LOG.warn(
                        "listener attribute {} is not a UUID ({}); the call is recorded in a new episode",
                        EPISODE_ID,
                        e.getMessage());
            }
        }
        return IDS.generate();
    }

    private static Map<String, String> tags(Map<Object, Object> attributes) {
        if (!(attributes.get(TAGS) instanceof Map<?, ?> tags) || tags.isEmpty()) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        tags.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    private void failed(Throwable t) {
        failures.inc();
        LOG.warn("a LangChain4j call could not be recorded: {}", t.toString(), t);
    }

    /** The time of the first token of a watched stream. */
    private static final class Stream {
        volatile long firstNanos;

        private void first() {
            if (firstNanos == 0) {
                firstNanos = System.nanoTime();
            }
        }

        StreamingChatResponseHandler watching(StreamingChatResponseHandler handler) {
            return new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String partialResponse) {
                    first();
                    handler.onPartialResponse(partialResponse);
                }

                @Override
                public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
                    first();
                    handler.onPartialResponse(partialResponse, context);
                }

                @Override
                public void onPartialThinking(PartialThinking partialThinking) {
                    first();
                    handler.onPartialThinking(partialThinking);
                }

                @Override
                public void onPartialThinking(PartialThinking partialThinking, PartialThinkingContext context) {
                    first();
                    handler.onPartialThinking(partialThinking, context);
                }

                @Override
                public void onPartialToolCall(PartialToolCall partialToolCall) {
                    first();
                    handler.onPartialToolCall(partialToolCall);
                }

                @Override
                public void onPartialToolCall(PartialToolCall partialToolCall, PartialToolCallContext context) {
                    first();
                    handler.onPartialToolCall(partialToolCall, context);
                }

                @Override
                public void onCompleteToolCall(CompleteToolCall completeToolCall) {
                    first();
                    handler.onCompleteToolCall(completeToolCall);
                }

                @Override
                public void onUnmappedRawEvent(Object rawEvent) {
                    handler.onUnmappedRawEvent(rawEvent);
                }

                @Override
                public void onCompleteResponse(ChatResponse completeResponse) {
                    handler.onCompleteResponse(completeResponse);
                }

                @Override
                public void onError(Throwable error) {
                    handler.onError(error);
                }
            };
        }
    }

    /**
     * Accessors that providers' metadata classes have without a common type ({@code rawHttpResponse()},
     * {@code rawServerSentEvents()}, {@code seed()}), looked up once per class. Null when absent.
     */
    private static final class Reflected {
        private static final Map<Class<?>, Map<String, Optional<Method>>> METHODS = new ConcurrentHashMap<>();

        static Object value(Object target, String name) {
            if (target == null) {
                return null;
            }
            Optional<Method> method = METHODS.computeIfAbsent(target.getClass(), c -> new ConcurrentHashMap<>())
                    .computeIfAbsent(name, n -> {
                        try {
                            Method m = target.getClass().getMethod(n);
                            m.setAccessible(true);
                            return Optional.of(m);
                        } catch (ReflectiveOperationException | RuntimeException e) {
                            return Optional.empty();
                        }
                    });
            try {
                return method.isPresent() ? method.get().invoke(target) : null;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    }
}
