package dev.forwarder;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One inference of a JSON function (topic {@code {prefix}_json_inference}), with the field names of
 * TensorZero's {@code JsonInference} table: as {@link ChatInference} without the tool fields, with
 * {@code output} as {@code {raw, parsed}}, plus {@code output_schema} and {@code auxiliary_content}.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record JsonInference(
        UUID id,
        String functionName,
        String variantName,
        UUID episodeId,
        ObjectNode input,
        Output output,
        JsonNode inferenceParams,
        Long processingTimeMs,
        Long ttftMs,
        Map<String, String> tags,
        JsonNode extraBody,
        JsonNode outputSchema,
        JsonNode auxiliaryContent,
        String snapshotHash,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields)
        implements InferenceRecord {

    public JsonInference {
        input = JsonNulls.absentIfNull(input);
        inferenceParams = JsonNulls.absentIfNull(inferenceParams);
        extraBody = JsonNulls.absentIfNull(extraBody);
        outputSchema = JsonNulls.absentIfNull(outputSchema);
        auxiliaryContent = JsonNulls.absentIfNull(auxiliaryContent);
        extraFields = extraFields == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extraFields);
    }

    @Override
    @JsonIgnore
    public DataType dataType() {
        return DataType.JSON_INFERENCE;
    }

    /**
     * The output of a JSON function: the model's text ({@code raw}) and the JSON value parsed from it
     * ({@code parsed}, null when it did not parse against the schema).
     */
    public record Output(
            String raw,
            JsonNode parsed,
            @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields) {

        public Output {
            parsed = JsonNulls.absentIfNull(parsed);
            extraFields = extraFields == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extraFields);
        }
    }
}
