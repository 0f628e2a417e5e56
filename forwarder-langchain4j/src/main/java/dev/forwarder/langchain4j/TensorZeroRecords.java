package dev.forwarder.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.forwarder.ChatInference;
import dev.forwarder.FinishReason;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.forwarder.internal.json.JsonTexts;
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
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A LangChain4j chat call as TensorZero's two records: a {@link ModelInference} (the call to the provider)
 * and a {@link ChatInference} (the function's result), linked by {@code inference_id}, in the shapes
 * TensorZero stores (input messages of content blocks, output blocks, {@code tool_params},
 * {@code inference_params}). A pure function of the request, the response, the provider and the call's
 * attributes, apart from the listener's callbacks; ids come from the caller.
 */
final class TensorZeroRecords {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** The JSON held as text, as {@code JSON.writeValueAsString} writes it, with writers kept from call to call. */
    private static final JsonTexts TEXT = new JsonTexts(JSON);

    /** Objects and arrays made smaller than Jackson's default, the same trees. */
    private static final JsonNodeFactory NODES = CompactNodes.INSTANCE;

    private TensorZeroRecords() {}

    /** The model's name as the request asked for it, else as the response says, else "unknown". */
    static String modelName(ChatRequest request, ChatResponse response) {
        return firstNonBlank(request.modelName(), response.modelName(), "unknown");
    }

    /**
     * The model inference, then the chat inference, of one call.
     *
     * @param ids makes the two records' ids (UUIDv7 in the listener)
     */
    static List<InferenceRecord> of(
            ChatRequest request, ChatResponse response, ModelProvider provider, CallAttributes call, Supplier<UUID> ids)
            throws IOException {
        String modelName = modelName(request, response);
        Input input = input(request.messages());
        UUID chatId = ids.get();
        UUID modelInferenceId = ids.get();
        TokenUsage usage = response.tokenUsage();
        ObjectNode params = inferenceParams(request.parameters());
        JsonNode toolParams = toolParams(request);

        String inputMessages = TEXT.write(input.messages());
        String modelOutput = TEXT.write(modelOutput(response.aiMessage()));

        ObjectNode chatInput = NODES.objectNode();
        if (input.system() != null) {
            chatInput.put("system", input.system());
        }
        chatInput.set("messages", input.messages());

        ModelInference model = new ModelInference(
                modelInferenceId,
                chatId,
                rawRequest(modelName, input.system(), inputMessages, params, toolParams),
                rawResponse(response, modelOutput),
                input.system(),
                inputMessages,
                modelOutput,
                modelName,
                providerName(provider),
                usage == null || usage.inputTokenCount() == null
                        ? null
                        : usage.inputTokenCount().longValue(),
                usage == null || usage.outputTokenCount() == null
                        ? null
                        : usage.outputTokenCount().longValue(),
                call.elapsedMs(),
                call.ttftMs(),
                false,
                finishReason(response.finishReason()),
                null,
                call.function(),
                call.variant(),
                null,
                null,
                null,
                null);
        ChatInference chat = new ChatInference(
                chatId,
                call.function(),
                call.variant(),
                call.episode(),
                chatInput,
                chatOutput(response.aiMessage()),
                toolParams,
                params.isEmpty() ? null : chatCompletion(params),
                call.elapsedMs(),
                call.ttftMs(),
                call.tags(),
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
            // TensorZero's URL file, tagged as its gateway writes it (file_type "url"); a MIME type it does not
            // know is null (the gateway then infers it from the file), never a pattern like image/*. The
            // gateway's own stored form (object storage, with a storage_path) needs the file's bytes stored.
            return NODES.objectNode()
                    .put("type", "file")
                    .put("file_type", "url")
                    .put("url", image.image().url().toString())
                    .put("mime_type", image.image().mimeType());
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
        if (ProviderMetadata.value(p, "seed") instanceof Integer seed) {
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
                            : JsonSchemas.toJson(tool.parameters()));
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
    private static String rawRequest(
            String model, String system, String inputMessages, ObjectNode params, JsonNode toolParams)
            throws IOException {
        ObjectNode out = NODES.objectNode();
        out.put("model", model);
        if (system != null) {
            out.put("system", system);
        }
        out.putRawValue("messages", new RawValue(inputMessages)); // the messages' text, written once above
        out.setAll(params);
        if (toolParams != null) {
            out.set("tools", toolParams.get("tools_available"));
            out.set("tool_choice", toolParams.get("tool_choice"));
        }
        return TEXT.write(out);
    }

    /**
     * The provider's own body where the model's metadata exposes it ({@code rawHttpResponse()}, or for a
     * stream the {@code data} of each server-sent event, one per line), else the response as JSON.
     *
     * @param modelOutput the response's output blocks as the model inference holds them (their JSON text)
     */
    private static String rawResponse(ChatResponse response, String modelOutput) throws IOException {
        Object metadata = response.metadata();
        if (ProviderMetadata.value(metadata, "rawServerSentEvents") instanceof List<?> events && !events.isEmpty()) {
            StringBuilder out = new StringBuilder();
            for (Object event : events) {
                if (ProviderMetadata.value(event, "data") instanceof String data) {
                    out.append(out.length() == 0 ? "" : "\n").append(data);
                }
            }
            return out.toString();
        }
        if (ProviderMetadata.value(ProviderMetadata.value(metadata, "rawHttpResponse"), "body") instanceof String body
                && !body.isEmpty()) {
            return body;
        }
        ObjectNode out = NODES.objectNode();
        out.put("id", response.id());
        out.put("model", response.modelName());
        out.putRawValue("output", new RawValue(modelOutput)); // the blocks' text, written once above
        out.put(
                "finish_reason",
                response.finishReason() == null ? null : response.finishReason().name());
        TokenUsage usage = response.tokenUsage();
        if (usage != null) {
            out.putObject("usage")
                    .put("input_tokens", usage.inputTokenCount())
                    .put("output_tokens", usage.outputTokenCount());
        }
        return TEXT.write(out);
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

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
