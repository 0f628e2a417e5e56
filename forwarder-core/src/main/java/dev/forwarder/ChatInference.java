package dev.forwarder;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One inference of a chat function (topic {@code {prefix}_chat_inference}), with the field names of
 * TensorZero's {@code ChatInference} table.
 *
 * <p>{@code input} is the function's input object ({@code system}, {@code messages}); {@code output} is
 * the array of content blocks the model produced; {@code tool_params}, {@code inference_params} and
 * {@code extra_body} are free-form JSON; {@code tags} is a string map. {@code snapshot_hash} is optional.
 * {@code dynamic_tools} and {@code dynamic_provider_tools} are arrays of tools, {@code allowed_tools} an
 * object ({@code {"tools": [...], "choice": "..."}}) and {@code tool_choice} a string ({@code "auto"},
 * {@code "none"}, {@code "required"}) or an object ({@code {"specific": "tool_name"}}), as TensorZero's gateway
 * writes them ({@code tool/storage.rs}); each may also be given as its JSON text, a string, since TensorZero's
 * table keeps them as text. {@code parallel_tool_calls} is a boolean. Null fields are left out of the JSON
 * (the table's default applies).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ChatInference(
        UUID id,
        String functionName,
        String variantName,
        UUID episodeId,
        ObjectNode input,
        ArrayNode output,
        JsonNode toolParams,
        JsonNode inferenceParams,
        Long processingTimeMs,
        Long ttftMs,
        Map<String, String> tags,
        JsonNode extraBody,
        String snapshotHash,
        List<JsonNode> dynamicTools,
        List<JsonNode> dynamicProviderTools,
        JsonNode allowedTools,
        JsonNode toolChoice,
        Boolean parallelToolCalls,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields)
        implements InferenceRecord {

    public ChatInference {
        input = JsonNulls.absentIfNull(input);
        output = JsonNulls.absentIfNull(output);
        toolParams = JsonNulls.absentIfNull(toolParams);
        inferenceParams = JsonNulls.absentIfNull(inferenceParams);
        extraBody = JsonNulls.absentIfNull(extraBody);
        allowedTools = JsonNulls.absentIfNull(allowedTools);
        toolChoice = JsonNulls.absentIfNull(toolChoice);
        extraFields = extraFields == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extraFields);
    }

    @Override
    @JsonIgnore
    public DataType dataType() {
        return DataType.CHAT_INFERENCE;
    }
}
