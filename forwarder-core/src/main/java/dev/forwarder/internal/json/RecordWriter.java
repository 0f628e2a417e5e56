package dev.forwarder.internal.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import dev.forwarder.ChatInference;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes a typed record as exactly the bytes {@link EventCodec}'s Jackson mapper writes for it, into a buffer
 * kept from record to record. Jackson's {@code writeValueAsBytes} makes a serializer provider, a generator
 * and a result array per call and a {@code char[36]} per UUID, and reads each field by reflection; this writes
 * the fields of the three record types in the mapper's order, once in this class, to one of two outputs:
 * directly into the buffer ({@link JsonBytes}: no generator, field names as kept bytes), or, for a record
 * holding a value that only Jackson writes as Jackson does (a number that is not finite, a tree node of
 * another kind: {@link JsonBytes.NotDirect}), again from its start through one generator and one serializer
 * provider kept from record to record (the mapper's own, so trees, numbers and strings come out as it writes
 * them; long ASCII text copied: {@link PlainText}). A record with extra fields is left to Jackson
 * ({@link #write} returns false): what a caller puts there can be any object. {@code RecordWriterTest} holds the
 * bytes equal to Jackson's on the golden records and a seeded corpus, by both outputs.
 *
 * <p>Not thread-safe: one user at a time (the publisher keeps a pool).
 */
public final class RecordWriter {

    /** A buffer that grows past this is given back to the GC when the writer is returned ({@link #trim}). */
    private static final int KEEP_BYTES = 1 << 20;

    private static final Name ID = new Name("id");
    private static final Name INFERENCE_ID = new Name("inference_id");
    private static final Name EPISODE_ID = new Name("episode_id");
    private static final Name FUNCTION_NAME = new Name("function_name");
    private static final Name VARIANT_NAME = new Name("variant_name");
    private static final Name INPUT = new Name("input");
    private static final Name OUTPUT = new Name("output");
    private static final Name TOOL_PARAMS = new Name("tool_params");
    private static final Name INFERENCE_PARAMS = new Name("inference_params");
    private static final Name PROCESSING_TIME_MS = new Name("processing_time_ms");
    private static final Name TTFT_MS = new Name("ttft_ms");
    private static final Name TAGS = new Name("tags");
    private static final Name EXTRA_BODY = new Name("extra_body");
    private static final Name SNAPSHOT_HASH = new Name("snapshot_hash");
    private static final Name DYNAMIC_TOOLS = new Name("dynamic_tools");
    private static final Name DYNAMIC_PROVIDER_TOOLS = new Name("dynamic_provider_tools");
    private static final Name ALLOWED_TOOLS = new Name("allowed_tools");
    private static final Name TOOL_CHOICE = new Name("tool_choice");
    private static final Name PARALLEL_TOOL_CALLS = new Name("parallel_tool_calls");
    private static final Name RAW_REQUEST = new Name("raw_request");
    private static final Name RAW_RESPONSE = new Name("raw_response");
    private static final Name SYSTEM = new Name("system");
    private static final Name INPUT_MESSAGES = new Name("input_messages");
    private static final Name MODEL_NAME = new Name("model_name");
    private static final Name MODEL_PROVIDER_NAME = new Name("model_provider_name");
    private static final Name INPUT_TOKENS = new Name("input_tokens");
    private static final Name OUTPUT_TOKENS = new Name("output_tokens");
    private static final Name RESPONSE_TIME_MS = new Name("response_time_ms");
    private static final Name CACHED = new Name("cached");
    private static final Name FINISH_REASON = new Name("finish_reason");
    private static final Name COST = new Name("cost");
    private static final Name PROVIDER_CACHE_READ_INPUT_TOKENS = new Name("provider_cache_read_input_tokens");
    private static final Name PROVIDER_CACHE_WRITE_INPUT_TOKENS = new Name("provider_cache_write_input_tokens");
    private static final Name OUTPUT_SCHEMA = new Name("output_schema");
    private static final Name AUXILIARY_CONTENT = new Name("auxiliary_content");
    private static final Name RAW = new Name("raw");
    private static final Name PARSED = new Name("parsed");

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final int UUID_LENGTH = 36;

    private final ObjectMapper mapper;
    private final JsonBytes out = new JsonBytes();
    private final Direct direct = new Direct();
    private final Generated generated;

    /** What the last write produced: the writer's own buffer, or Jackson's array ({@link #adopt}). */
    private byte[] bytes = out.buf;

    private int length;
    private int keyOffset = -1;
    /** Whether the last record written went through the generator (a value {@link JsonBytes} leaves to it). */
    private boolean lastGenerated;

    RecordWriter(ObjectMapper mapper) {
        this.mapper = mapper;
        this.generated = new Generated(mapper.getSerializerProviderInstance());
    }

    /** A field name of ours, for both outputs. */
    private static final class Name {
        final SerializedString jackson;
        final byte[] direct;

        Name(String name) {
            this.jackson = new SerializedString(name);
            this.direct = JsonBytes.fieldName(name);
        }
    }

    /** The JSON of the last record written: {@link #length()} bytes from 0. Valid until the next write. */
    public byte[] bytes() {
        return bytes;
    }

    public int length() {
        return length;
    }

    /**
     * Where the record's message key (its {@code id}, when it has one, which typed records that pass the check
     * always do) starts in {@link #bytes()}, or -1: find it from the record ({@link MessageKeys#keyOf}).
     */
    public int keyOffset() {
        return keyOffset;
    }

    /** The key's length in bytes when {@link #keyOffset()} is set: a UUID's text. */
    public int keyLength() {
        return keyOffset < 0 ? -1 : UUID_LENGTH;
    }

    /** Whether the last record was written through Jackson's generator rather than directly (for the tests). */
    boolean lastGenerated() {
        return lastGenerated;
    }

    /**
     * Writes {@code record}, or returns false without output when it has extra fields (Jackson's to write).
     * After an exception the writer is still usable: its next write starts afresh.
     */
    public boolean write(InferenceRecord record) throws IOException {
        if (!record.extraFields().isEmpty()
                || (record instanceof JsonInference j
                        && j.output() != null
                        && !j.output().extraFields().isEmpty())) {
            return false;
        }
        bytes = out.buf;
        length = 0;
        try {
            lastGenerated = false;
            write(direct, record);
        } catch (JsonBytes.NotDirect e) {
            lastGenerated = true;
            write(generated, record);
        }
        bytes = out.buf;
        length = out.count;
        return true;
    }

    private void write(Fields f, InferenceRecord record) throws IOException {
        out.count = 0;
        keyOffset = -1;
        f.start();
        if (record instanceof ChatInference c) {
            chat(f, c);
        } else if (record instanceof ModelInference m) {
            model(f, m);
        } else {
            json(f, (JsonInference) record);
        }
        f.end();
    }

    /** Takes bytes Jackson wrote as the last record's (for a record {@link #write} left to it). */
    void adopt(byte[] json) {
        bytes = json;
        length = json.length;
        keyOffset = -1;
    }

    /** Lets a buffer grown for one large record go, so that a pooled writer does not keep it. */
    public void trim() {
        out.trim(KEEP_BYTES);
        generated.trim();
        bytes = out.buf;
        length = 0;
    }

    private void chat(Fields f, ChatInference r) throws IOException {
        id(f, r.id());
        f.string(FUNCTION_NAME, r.functionName());
        f.string(VARIANT_NAME, r.variantName());
        f.uuid(EPISODE_ID, r.episodeId());
        f.tree(INPUT, r.input());
        f.tree(OUTPUT, r.output());
        f.tree(TOOL_PARAMS, r.toolParams());
        f.tree(INFERENCE_PARAMS, r.inferenceParams());
        f.number(PROCESSING_TIME_MS, r.processingTimeMs());
        f.number(TTFT_MS, r.ttftMs());
        f.tags(r.tags());
        f.tree(EXTRA_BODY, r.extraBody());
        f.string(SNAPSHOT_HASH, r.snapshotHash());
        f.trees(DYNAMIC_TOOLS, r.dynamicTools());
        f.trees(DYNAMIC_PROVIDER_TOOLS, r.dynamicProviderTools());
        f.tree(ALLOWED_TOOLS, r.allowedTools());
        f.tree(TOOL_CHOICE, r.toolChoice());
        f.bool(PARALLEL_TOOL_CALLS, r.parallelToolCalls());
    }

    private void model(Fields f, ModelInference r) throws IOException {
        id(f, r.id());
        f.uuid(INFERENCE_ID, r.inferenceId());
        f.string(RAW_REQUEST, r.rawRequest());
        f.string(RAW_RESPONSE, r.rawResponse());
        f.string(SYSTEM, r.system());
        f.string(INPUT_MESSAGES, r.inputMessages());
        f.string(OUTPUT, r.output());
        f.string(MODEL_NAME, r.modelName());
        f.string(MODEL_PROVIDER_NAME, r.modelProviderName());
        f.number(INPUT_TOKENS, r.inputTokens());
        f.number(OUTPUT_TOKENS, r.outputTokens());
        f.number(RESPONSE_TIME_MS, r.responseTimeMs());
        f.number(TTFT_MS, r.ttftMs());
        f.bool(CACHED, r.cached());
        f.string(
                FINISH_REASON,
                r.finishReason() == null ? null : r.finishReason().wireName());
        f.decimal(COST, r.cost());
        f.string(FUNCTION_NAME, r.functionName());
        f.string(VARIANT_NAME, r.variantName());
        f.string(SNAPSHOT_HASH, r.snapshotHash());
        f.number(PROVIDER_CACHE_READ_INPUT_TOKENS, r.providerCacheReadInputTokens());
        f.number(PROVIDER_CACHE_WRITE_INPUT_TOKENS, r.providerCacheWriteInputTokens());
    }

    private void json(Fields f, JsonInference r) throws IOException {
        id(f, r.id());
        f.string(FUNCTION_NAME, r.functionName());
        f.string(VARIANT_NAME, r.variantName());
        f.uuid(EPISODE_ID, r.episodeId());
        f.tree(INPUT, r.input());
        JsonInference.Output output = r.output();
        if (output != null) {
            f.startObject(OUTPUT);
            f.string(RAW, output.raw());
            f.tree(PARSED, output.parsed());
            f.endObject();
        }
        f.tree(INFERENCE_PARAMS, r.inferenceParams());
        f.number(PROCESSING_TIME_MS, r.processingTimeMs());
        f.number(TTFT_MS, r.ttftMs());
        f.tags(r.tags());
        f.tree(EXTRA_BODY, r.extraBody());
        f.tree(OUTPUT_SCHEMA, r.outputSchema());
        f.tree(AUXILIARY_CONTENT, r.auxiliaryContent());
        f.string(SNAPSHOT_HASH, r.snapshotHash());
    }

    /** The record's id, first, noting where its text lands: the message key. */
    private void id(Fields f, UUID id) throws IOException {
        if (id != null) {
            keyOffset = f.uuid(ID, id);
        }
    }

    /**
     * Where a record's fields go; each writes nothing for a null value (absent fields are left out). A
     * {@code tags} map writes a null value as null (content inclusion ALWAYS), a list of trees a null element as
     * null, as Jackson's serializers do.
     */
    private interface Fields {
        void start() throws IOException;

        void end() throws IOException;

        /** Returns where the UUID's text starts in the output. */
        int uuid(Name name, UUID value) throws IOException;

        void string(Name name, String value) throws IOException;

        void number(Name name, Long value) throws IOException;

        void decimal(Name name, BigDecimal value) throws IOException;

        void bool(Name name, Boolean value) throws IOException;

        void tree(Name name, JsonNode value) throws IOException;

        void trees(Name name, List<JsonNode> values) throws IOException;

        void tags(Map<String, String> tags) throws IOException;

        void startObject(Name name) throws IOException;

        void endObject() throws IOException;
    }

    /** Straight into the buffer ({@link JsonBytes}); a value it leaves to Jackson throws {@code NotDirect}. */
    private final class Direct implements Fields {
        @Override
        public void start() {
            out.startObject();
        }

        @Override
        public void end() {
            out.endObject();
        }

        @Override
        public int uuid(Name name, UUID value) {
            if (value == null) {
                return -1;
            }
            out.name(name.direct);
            return out.uuid(value);
        }

        @Override
        public void string(Name name, String value) throws JsonBytes.NotDirect {
            if (value != null) {
                out.name(name.direct);
                out.string(value);
            }
        }

        @Override
        public void number(Name name, Long value) {
            if (value != null) {
                out.name(name.direct);
                out.number(value.longValue());
            }
        }

        @Override
        public void decimal(Name name, BigDecimal value) {
            if (value != null) {
                out.name(name.direct);
                out.decimal(value);
            }
        }

        @Override
        public void bool(Name name, Boolean value) {
            if (value != null) {
                out.name(name.direct);
                out.bool(value.booleanValue());
            }
        }

        @Override
        public void tree(Name name, JsonNode value) throws JsonBytes.NotDirect {
            if (value != null) {
                out.name(name.direct);
                out.tree(value);
            }
        }

        @Override
        public void trees(Name name, List<JsonNode> values) throws JsonBytes.NotDirect {
            if (values != null) {
                out.name(name.direct);
                out.startArray();
                for (int i = 0, n = values.size(); i < n; i++) {
                    out.element();
                    JsonNode value = values.get(i);
                    if (value == null) {
                        out.nullValue();
                    } else {
                        out.tree(value);
                    }
                }
                out.endArray();
            }
        }

        @Override
        public void tags(Map<String, String> tags) throws JsonBytes.NotDirect {
            if (tags != null) {
                out.name(TAGS.direct);
                out.tags(tags);
            }
        }

        @Override
        public void startObject(Name name) {
            out.name(name.direct);
            out.startObject();
        }

        @Override
        public void endObject() {
            out.endObject();
        }
    }

    /** Through Jackson's generator, kept from record to record unless a record fails half-way. */
    private final class Generated implements Fields {
        private final SerializerProvider provider;
        private final char[] uuid = new char[UUID_LENGTH];
        /** Null before the first record and after a failed one (its state is unknown): the next start makes one. */
        private JsonGenerator generator;

        private JsonGenerator g;

        Generated(SerializerProvider provider) {
            this.provider = provider;
        }

        @Override
        public void start() throws IOException {
            g = generator;
            if (g == null) {
                JsonGenerator jackson = mapper.createGenerator(out);
                jackson.setRootValueSeparator(null); // records follow one another in the stream: no space between
                g = new PlainText.ByteGenerator(jackson);
            }
            generator = null; // until this record is written whole
            g.writeStartObject();
        }

        @Override
        public void end() throws IOException {
            g.writeEndObject();
            g.flush();
            generator = g;
        }

        void trim() {
            if (generator instanceof PlainText.FastGenerator fast) {
                fast.trim();
            }
        }

        @Override
        public int uuid(Name name, UUID value) throws IOException {
            if (value == null) {
                return -1;
            }
            g.writeFieldName(name.jackson);
            long msb = value.getMostSignificantBits();
            long lsb = value.getLeastSignificantBits();
            hex(msb >>> 32, 8, 0);
            uuid[8] = '-';
            hex(msb >>> 16, 4, 9);
            uuid[13] = '-';
            hex(msb, 4, 14);
            uuid[18] = '-';
            hex(lsb >>> 48, 4, 19);
            uuid[23] = '-';
            hex(lsb, 12, 24);
            g.writeString(uuid, 0, uuid.length);
            // The generator holds what it has not flushed: the text ends one byte (its quote) before the end.
            return out.count + g.getOutputBuffered() - 1 - uuid.length;
        }

        /** The low {@code digits} hex digits of {@code value} into {@link #uuid} from {@code at}. */
        private void hex(long value, int digits, int at) {
            for (int i = digits - 1; i >= 0; i--) {
                uuid[at + i] = HEX[(int) (value & 0xF)];
                value >>>= 4;
            }
        }

        @Override
        public void string(Name name, String value) throws IOException {
            if (value != null) {
                g.writeFieldName(name.jackson);
                g.writeString(value);
            }
        }

        @Override
        public void number(Name name, Long value) throws IOException {
            if (value != null) {
                g.writeFieldName(name.jackson);
                g.writeNumber(value.longValue());
            }
        }

        @Override
        public void decimal(Name name, BigDecimal value) throws IOException {
            if (value != null) {
                g.writeFieldName(name.jackson);
                g.writeNumber(value);
            }
        }

        @Override
        public void bool(Name name, Boolean value) throws IOException {
            if (value != null) {
                g.writeFieldName(name.jackson);
                g.writeBoolean(value.booleanValue());
            }
        }

        /** A JSON tree as the mapper writes one ({@code JsonNode} serialises itself, with the provider's settings). */
        @Override
        public void tree(Name name, JsonNode value) throws IOException {
            if (value != null) {
                g.writeFieldName(name.jackson);
                value.serialize(g, provider);
            }
        }

        @Override
        public void trees(Name name, List<JsonNode> values) throws IOException {
            if (values != null) {
                g.writeFieldName(name.jackson);
                g.writeStartArray();
                for (int i = 0, n = values.size(); i < n; i++) {
                    JsonNode value = values.get(i);
                    if (value == null) {
                        g.writeNull();
                    } else {
                        value.serialize(g, provider);
                    }
                }
                g.writeEndArray();
            }
        }

        @Override
        public void tags(Map<String, String> tags) throws IOException {
            if (tags != null) {
                g.writeFieldName(TAGS.jackson);
                g.writeStartObject();
                for (Map.Entry<String, String> tag : tags.entrySet()) {
                    if (tag.getKey() == null) {
                        throw new IOException("null key in tags: left to Jackson");
                    }
                    g.writeFieldName(tag.getKey());
                    if (tag.getValue() == null) {
                        g.writeNull();
                    } else {
                        g.writeString(tag.getValue());
                    }
                }
                g.writeEndObject();
            }
        }

        @Override
        public void startObject(Name name) throws IOException {
            g.writeFieldName(name.jackson);
            g.writeStartObject();
        }

        @Override
        public void endObject() throws IOException {
            g.writeEndObject();
        }
    }
}
