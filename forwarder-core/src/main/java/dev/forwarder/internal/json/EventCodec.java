package dev.forwarder.internal.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.FinishReason;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

/**
 * Turns inference records into one UTF-8 JSON object each, and checks JSON handed in by callers against
 * the model of its data type.
 *
 * <p>Reading is strict where a consumer loading the topics into typed tables would be hurt: no coercion
 * between strings, numbers and booleans, no fractions where an integer belongs, UUIDs must be UUIDs, and
 * the value must be exactly one JSON object. Fields that are not columns of the record's TensorZero table are
 * refused, or carried with {@code forwarder.schema.unknown_fields = carry}. Thread-safe; build one and share it.
 */
public final class EventCodec {

    private final ObjectMapper mapper;
    private final Map<DataType, ObjectReader> readers = new EnumMap<>(DataType.class);
    /** Reads one value's tree and leaves what follows it to the caller, who names it. */
    private final ObjectReader treeReader;
    /** Told how many ids of each record checked are not UUIDv7 (metric {@code forwarder_event_ids_not_v7}). */
    private final LongConsumer nonV7Ids;
    /** Whether fields that are not columns of the record's table are carried (else refused). */
    private final boolean carryUnknown;

    /** A codec that counts nothing and refuses fields that are not columns. */
    public EventCodec() {
        this(count -> {}, false);
    }

    /**
     * @param nonV7Ids     told, for each record parsed or serialised, how many of its ids are not UUIDv7:
     *                     accepted, but worth a warning, since TensorZero derives a row's {@code timestamp}
     *                     from a v7 id
     * @param carryUnknown {@code forwarder.schema.unknown_fields = carry}: fields that are not columns of the
     *                     record's TensorZero table pass through; false: refused, as the gateway's insert does
     */
    public EventCodec(LongConsumer nonV7Ids, boolean carryUnknown) {
        this.nonV7Ids = nonV7Ids;
        this.carryUnknown = carryUnknown;
        JsonMapper jsonMapper = JsonMapper.builder()
                // {"id":1,"id":2} is refused, at every depth: ClickHouse refuses it too, and which one counts is a
                // guess.
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // Typed records leave absent (null) fields out, as TensorZero writes them: the column's default.
                // (fields of the model only: unknown fields the caller sent are carried as they are, nulls included).
                .defaultPropertyInclusion(
                        JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.ALWAYS))
                // 0.0 stays 0.0 and 1e400 stays 1e400: numbers inside free-form fields pass through exactly.
                .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        // Strings stay strings: a number or boolean where text belongs is a wrong type, not a value.
        for (CoercionInputShape shape : new CoercionInputShape[] {
            CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean
        }) {
            jsonMapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        this.mapper = jsonMapper;
        this.treeReader = mapper.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        readers.put(DataType.MODEL_INFERENCE, mapper.readerFor(ModelInference.class));
        readers.put(DataType.CHAT_INFERENCE, mapper.readerFor(ChatInference.class));
        readers.put(DataType.JSON_INFERENCE, mapper.readerFor(JsonInference.class));
    }

    /**
     * The checks of {@link ClickHouseSchema} on the fields of a typed record that its Java types do not
     * already bound (integers, hashes, cost, tags); a failure is an IllegalArgumentException naming the field.
     */
    private void checkTyped(InferenceRecord record) {
        try {
            count(ClickHouseSchema.idsNotV7(record));
            ClickHouseSchema.checkTyped(record, carryUnknown);
        } catch (InvalidEventException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private void count(int nonV7) {
        if (nonV7 > 0) {
            nonV7Ids.accept(nonV7);
        }
    }

    /** The configured mapper, for callers that need to build JSON trees of the same dialect. */
    public ObjectMapper mapper() {
        return mapper;
    }

    /**
     * The record as one UTF-8 JSON object, checked against its ClickHouse table like parsed JSON.
     *
     * @throws IllegalArgumentException naming the field when a value would fail TensorZero's insert
     */
    public byte[] serialize(InferenceRecord record) {
        checkTyped(record);
        return jacksonBytes(record);
    }

    /** The record as the mapper writes it (the bytes {@link RecordWriter} must equal). */
    private byte[] jacksonBytes(InferenceRecord record) {
        try {
            return mapper.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            // Only possible for values a caller put into extraFields that Jackson cannot write.
            throw new UncheckedIOException(
                    "cannot serialise " + record.dataType() + " record: " + e.getOriginalMessage(), e);
        }
    }

    /** A writer for {@link #serialize(InferenceRecord, RecordWriter)}: one user at a time. */
    public RecordWriter newWriter() {
        return new RecordWriter(mapper);
    }

    /**
     * As {@link #serialize(InferenceRecord)}, the same bytes, into {@code writer}: its {@link RecordWriter#bytes()}
     * hold them until its next use. Allocates next to nothing for records without extra fields.
     *
     * @throws IllegalArgumentException naming the field when a value would fail TensorZero's insert
     */
    public void serialize(InferenceRecord record, RecordWriter writer) {
        checkTyped(record);
        boolean written;
        try {
            written = writer.write(record);
        } catch (IOException | RuntimeException e) {
            written = false; // Jackson's to write, or to say what is wrong, in its words
        }
        if (!written) {
            writer.adopt(jacksonBytes(record));
        }
    }

    /**
     * Checks one record of {@code type} as TensorZero's insert would take it: exactly one JSON object, no
     * duplicate keys at any depth, every field a column of its table with a value the column holds as given
     * ({@link ClickHouseSchema#check}). No typed record is built, so every shape the gateway writes passes
     * (JSON columns as objects or as their text).
     *
     * @throws InvalidEventException naming the field when the insert would refuse or change the record
     */
    public void check(DataType type, byte[] json) throws InvalidEventException {
        count(ClickHouseSchema.check(type, tree(type, json), carryUnknown));
    }

    /**
     * Checks one record of {@code type} ({@link #check}) and reads it into its typed record. JSON columns given
     * as their text (strings) where the typed record holds a tree ({@code input}, {@code output}) pass the
     * check but cannot be read into the typed record.
     *
     * @throws InvalidEventException naming the field when the JSON is not one loadable record of that type
     */
    public InferenceRecord parse(DataType type, byte[] json) throws InvalidEventException {
        JsonNode tree = tree(type, json);
        count(ClickHouseSchema.check(type, tree, carryUnknown));
        try (JsonParser parser = mapper.treeAsTokens(tree)) {
            parser.nextToken();
            try {
                return readers.get(type).readValue(parser);
            } catch (JsonMappingException e) {
                throw fieldError(type, e); // while the parser is open, so it can say what it saw
            }
        } catch (InvalidEventException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a tree does no I/O
        }
    }

    /** The JSON as a tree, if it is exactly one object without duplicate keys. */
    private JsonNode tree(DataType type, byte[] json) throws InvalidEventException {
        try (JsonParser parser = mapper.getFactory().createParser(json)) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new InvalidEventException(
                        type + " record must be one JSON object, got " + describeToken(first), null);
            }
            JsonNode tree = treeReader.readTree(parser);
            if (parser.nextToken() != null) {
                throw new InvalidEventException(
                        type + " record must be one JSON object, but more JSON follows it (line "
                                + parser.currentLocation().getLineNr() + ", column "
                                + parser.currentLocation().getColumnNr() + ")",
                        null);
            }
            return tree;
        } catch (InvalidEventException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw new InvalidEventException(
                    type + " record is not valid JSON: " + e.getOriginalMessage() + locationOf(e), null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a byte array does no I/O
        }
    }

    private static InvalidEventException fieldError(DataType type, JsonMappingException e) {
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
        if (path.isEmpty()) {
            if (e.getMessage() != null && e.getMessage().contains("Trailing token")) {
                return new InvalidEventException(
                        type + " record must be exactly one JSON object," + " but more JSON follows it" + locationOf(e),
                        null);
            }
            return new InvalidEventException(type + " record: " + e.getOriginalMessage(), null);
        }
        String reason;
        if (e instanceof InvalidFormatException invalid) {
            reason = "expected " + describe(invalid.getTargetType()) + ", got " + describeValue(invalid.getValue());
        } else if (e instanceof ValueInstantiationException && e.getCause() != null) {
            reason = e.getCause().getMessage();
        } else if (e instanceof MismatchedInputException mismatched && mismatched.getTargetType() != null) {
            reason = "expected " + describe(mismatched.getTargetType()) + currentToken(mismatched);
        } else {
            reason = e.getOriginalMessage();
        }
        return new InvalidEventException(type + " field \"" + path + "\": " + reason, path);
    }

    private static String currentToken(MismatchedInputException e) {
        if (e.getProcessor() instanceof JsonParser parser) {
            return ", got " + describeToken(parser.currentToken());
        }
        return "";
    }

    private static String describe(Class<?> target) {
        if (target == UUID.class) {
            return "a UUID string";
        } else if (target == Long.class || target == long.class || target == Integer.class || target == int.class) {
            return "an integer";
        } else if (target == Boolean.class || target == boolean.class) {
            return "true or false";
        } else if (target == String.class) {
            return "a string";
        } else if (target == BigDecimal.class || target == Double.class) {
            return "a number";
        } else if (target == FinishReason.class) {
            return "one of " + FinishReason.ALLOWED;
        } else if (ObjectNode.class.isAssignableFrom(target)
                || Map.class.isAssignableFrom(target)
                || target.isRecord()) {
            return "a JSON object";
        } else if (ArrayNode.class.isAssignableFrom(target)) {
            return "a JSON array";
        } else if (target == JsonNode.class) {
            return "a JSON value";
        }
        return target.getSimpleName();
    }

    private static String describeToken(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT -> "an integer";
            case VALUE_NUMBER_FLOAT -> "a fractional number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.asString() == null ? token.name() : token.asString();
        };
    }

    private static String describeValue(Object value) {
        if (value instanceof String s) {
            return "\"" + s + "\"";
        } else if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            return "an integer";
        } else if (value instanceof Number) {
            return "a fractional number";
        } else if (value instanceof Boolean) {
            return "a boolean";
        }
        return String.valueOf(value);
    }

    private static String locationOf(JsonProcessingException e) {
        return e.getLocation() == null
                ? ""
                : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
    }
}
