package dev.forwarder;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * One call to a model provider (topic {@code {prefix}_model_inference}), with the field names of
 * TensorZero's {@code ModelInference} table.
 *
 * <p>{@code input_messages} and {@code output} are JSON documents carried as strings, as TensorZero does;
 * {@code raw_request} and {@code raw_response} are the provider's bodies verbatim. {@code cost},
 * {@code function_name}, {@code variant_name} and {@code snapshot_hash} are optional (null when unknown).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ModelInference(
        UUID id,
        UUID inferenceId,
        String rawRequest,
        String rawResponse,
        String system,
        String inputMessages,
        String output,
        String modelName,
        String modelProviderName,
        Long inputTokens,
        Long outputTokens,
        Long responseTimeMs,
        Long ttftMs,
        Boolean cached,
        FinishReason finishReason,
        BigDecimal cost,
        String functionName,
        String variantName,
        String snapshotHash,
        Long providerCacheReadInputTokens,
        Long providerCacheWriteInputTokens,
        @JsonAnySetter @JsonAnyGetter Map<String, Object> extraFields)
        implements InferenceRecord {

    public ModelInference {
        extraFields = extraFields == null ? new LinkedHashMap<>() : new LinkedHashMap<>(extraFields);
    }

    @Override
    @JsonIgnore
    public DataType dataType() {
        return DataType.MODEL_INFERENCE;
    }
}
