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
import java.io.OutputStream;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes a typed record as exactly the bytes {@link EventCodec}'s Jackson mapper writes for it, into a buffer
 * kept from record to record. Jackson's {@code writeValueAsBytes} makes a serializer provider, a generator
 * and a result array per call and a {@code char[36]} per UUID, and reads each field by reflection; this writes
 * the fields of the three record types in the mapper's order with one generator and one provider (both the
 * mapper's own kind, so JSON trees, numbers and strings come out as the mapper writes them; long ASCII text is
 * copied, not escaped character by character: {@link PlainText}). A record with
 * extra fields is left to Jackson ({@link #write} returns false): what a caller puts there can be any object.
 * {@code RecordWriterTest} holds the bytes equal to Jackson's on the golden records and a seeded corpus.
 *
 * <p>Not thread-safe: one user at a time (the publisher keeps a pool).
 */
public final class RecordWriter {

    /** A buffer that grows past this is given back to the GC when the writer is returned ({@link #trim}). */
    private static final int KEEP_BYTES = 1 << 20;

    private static final SerializedString ID = name("id");
    private static final SerializedString INFERENCE_ID = name("inference_id");
    private static final SerializedString EPISODE_ID = name("episode_id");
    private static final SerializedString FUNCTION_NAME = name("function_name");
    private static final SerializedString VARIANT_NAME = name("variant_name");
    private static final SerializedString INPUT = name("input");
    private static final SerializedString OUTPUT = name("output");
    private static final SerializedString TOOL_PARAMS = name("tool_params");
    private static final SerializedString INFERENCE_PARAMS = name("inference_params");
    private static final SerializedString PROCESSING_TIME_MS = name("processing_time_ms");
    private static final SerializedString TTFT_MS = name("ttft_ms");
    private static final SerializedString TAGS = name("tags");
    private static final SerializedString EXTRA_BODY = name("extra_body");
    private static final SerializedString SNAPSHOT_HASH = name("snapshot_hash");
    private static final SerializedString DYNAMIC_TOOLS = name("dynamic_tools");
    private static final SerializedString DYNAMIC_PROVIDER_TOOLS = name("dynamic_provider_tools");
    private static final SerializedString ALLOWED_TOOLS = name("allowed_tools");
    private static final SerializedString TOOL_CHOICE = name("tool_choice");
    private static final SerializedString PARALLEL_TOOL_CALLS = name("parallel_tool_calls");
    private static final SerializedString RAW_REQUEST = name("raw_request");
    private static final SerializedString RAW_RESPONSE = name("raw_response");
    private static final SerializedString SYSTEM = name("system");
    private static final SerializedString INPUT_MESSAGES = name("input_messages");
    private static final SerializedString MODEL_NAME = name("model_name");
    private static final SerializedString MODEL_PROVIDER_NAME = name("model_provider_name");
    private static final SerializedString INPUT_TOKENS = name("input_tokens");
    private static final SerializedString OUTPUT_TOKENS = name("output_tokens");
    private static final SerializedString RESPONSE_TIME_MS = name("response_time_ms");
    private static final SerializedString CACHED = name("cached");
    private static final SerializedString FINISH_REASON = name("finish_reason");
    private static final SerializedString COST = name("cost");
    private static final SerializedString PROVIDER_CACHE_READ_INPUT_TOKENS = name("provider_cache_read_input_tokens");
    private static final SerializedString PROVIDER_CACHE_WRITE_INPUT_TOKENS = name("provider_cache_write_input_tokens");
    private static final SerializedString OUTPUT_SCHEMA = name("output_schema");
    private static final SerializedString AUXILIARY_CONTENT = name("auxiliary_content");
    private static final SerializedString RAW = name("raw");
    private static final SerializedString PARSED = name("parsed");

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final ObjectMapper mapper;
    private final SerializerProvider provider;
    private final Buffer out = new Buffer();
    private final char[] uuid = new char[36];
    /** Null before the first record and after a failed one (its state is unknown): the next write makes one. */
    private JsonGenerator generator;

    /** What the last write produced: the writer's own buffer, or Jackson's array ({@link #adopt}). */
    private byte[] bytes = out.buf;

    private int length;
    private int keyOffset = -1;

    RecordWriter(ObjectMapper mapper) {
        this.mapper = mapper;
        this.provider = mapper.getSerializerProviderInstance();
    }

    private static SerializedString name(String name) {
        return new SerializedString(name);
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
        return keyOffset < 0 ? -1 : uuid.length;
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
        out.count = 0;
        bytes = out.buf;
        length = 0;
        keyOffset = -1;
        JsonGenerator g = generator;
        if (g == null) {
            JsonGenerator jackson = mapper.createGenerator(out);
            jackson.setRootValueSeparator(null); // records follow one another in the stream: no space between them
            g = new PlainText.ByteGenerator(jackson);
        }
        generator = null; // until this record is written whole
        g.writeStartObject();
        if (record instanceof ChatInference c) {
            chat(g, c);
        } else if (record instanceof ModelInference m) {
            model(g, m);
        } else {
            json(g, (JsonInference) record);
        }
        g.writeEndObject();
        g.flush();
        generator = g;
        bytes = out.buf;
        length = out.count;
        return true;
    }

    /** Takes bytes Jackson wrote as the last record's (for a record {@link #write} left to it). */
    void adopt(byte[] json) {
        bytes = json;
        length = json.length;
        keyOffset = -1;
    }

    /** Lets a buffer grown for one large record go, so that a pooled writer does not keep it. */
    public void trim() {
        if (out.buf.length > KEEP_BYTES) {
            out.buf = new byte[Buffer.INITIAL];
        }
        if (generator instanceof PlainText.FastGenerator fast) {
            fast.trim();
        }
        bytes = out.buf;
        length = 0;
    }

    private void chat(JsonGenerator g, ChatInference r) throws IOException {
        id(g, r.id());
        string(g, FUNCTION_NAME, r.functionName());
        string(g, VARIANT_NAME, r.variantName());
        uuid(g, EPISODE_ID, r.episodeId());
        tree(g, INPUT, r.input());
        tree(g, OUTPUT, r.output());
        tree(g, TOOL_PARAMS, r.toolParams());
        tree(g, INFERENCE_PARAMS, r.inferenceParams());
        number(g, PROCESSING_TIME_MS, r.processingTimeMs());
        number(g, TTFT_MS, r.ttftMs());
        tags(g, r.tags());
        tree(g, EXTRA_BODY, r.extraBody());
        string(g, SNAPSHOT_HASH, r.snapshotHash());
        trees(g, DYNAMIC_TOOLS, r.dynamicTools());
        trees(g, DYNAMIC_PROVIDER_TOOLS, r.dynamicProviderTools());
        tree(g, ALLOWED_TOOLS, r.allowedTools());
        tree(g, TOOL_CHOICE, r.toolChoice());
        bool(g, PARALLEL_TOOL_CALLS, r.parallelToolCalls());
    }

    private void model(JsonGenerator g, ModelInference r) throws IOException {
        id(g, r.id());
        uuid(g, INFERENCE_ID, r.inferenceId());
        string(g, RAW_REQUEST, r.rawRequest());
        string(g, RAW_RESPONSE, r.rawResponse());
        string(g, SYSTEM, r.system());
        string(g, INPUT_MESSAGES, r.inputMessages());
        string(g, OUTPUT, r.output());
        string(g, MODEL_NAME, r.modelName());
        string(g, MODEL_PROVIDER_NAME, r.modelProviderName());
        number(g, INPUT_TOKENS, r.inputTokens());
        number(g, OUTPUT_TOKENS, r.outputTokens());
        number(g, RESPONSE_TIME_MS, r.responseTimeMs());
        number(g, TTFT_MS, r.ttftMs());
        bool(g, CACHED, r.cached());
        string(
                g,
                FINISH_REASON,
                r.finishReason() == null ? null : r.finishReason().wireName());
        decimal(g, COST, r.cost());
        string(g, FUNCTION_NAME, r.functionName());
        string(g, VARIANT_NAME, r.variantName());
        string(g, SNAPSHOT_HASH, r.snapshotHash());
        number(g, PROVIDER_CACHE_READ_INPUT_TOKENS, r.providerCacheReadInputTokens());
        number(g, PROVIDER_CACHE_WRITE_INPUT_TOKENS, r.providerCacheWriteInputTokens());
    }

    private void json(JsonGenerator g, JsonInference r) throws IOException {
        id(g, r.id());
        string(g, FUNCTION_NAME, r.functionName());
        string(g, VARIANT_NAME, r.variantName());
        uuid(g, EPISODE_ID, r.episodeId());
        tree(g, INPUT, r.input());
        JsonInference.Output output = r.output();
        if (output != null) {
            g.writeFieldName(OUTPUT);
            g.writeStartObject();
            string(g, RAW, output.raw());
            tree(g, PARSED, output.parsed());
            g.writeEndObject();
        }
        tree(g, INFERENCE_PARAMS, r.inferenceParams());
        number(g, PROCESSING_TIME_MS, r.processingTimeMs());
        number(g, TTFT_MS, r.ttftMs());
        tags(g, r.tags());
        tree(g, EXTRA_BODY, r.extraBody());
        tree(g, OUTPUT_SCHEMA, r.outputSchema());
        tree(g, AUXILIARY_CONTENT, r.auxiliaryContent());
        string(g, SNAPSHOT_HASH, r.snapshotHash());
    }

    /** The record's id, first, noting where its text lands: the message key. */
    private void id(JsonGenerator g, UUID id) throws IOException {
        if (id != null) {
            g.writeFieldName(ID);
            writeUuid(g, id);
            // The generator holds what it has not flushed: the text ends one byte (its quote) before the end.
            keyOffset = out.count + g.getOutputBuffered() - 1 - uuid.length;
        }
    }

    private void uuid(JsonGenerator g, SerializedString name, UUID value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            writeUuid(g, value);
        }
    }

    /** As Jackson's UUIDSerializer writes one (the canonical lower-case text), without its char[] per call. */
    private void writeUuid(JsonGenerator g, UUID value) throws IOException {
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
    }

    /** The low {@code digits} hex digits of {@code value} into {@link #uuid} from {@code at}. */
    private void hex(long value, int digits, int at) {
        for (int i = digits - 1; i >= 0; i--) {
            uuid[at + i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
    }

    private static void string(JsonGenerator g, SerializedString name, String value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            g.writeString(value);
        }
    }

    private static void number(JsonGenerator g, SerializedString name, Long value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            g.writeNumber(value.longValue());
        }
    }

    private static void decimal(JsonGenerator g, SerializedString name, BigDecimal value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            g.writeNumber(value);
        }
    }

    private static void bool(JsonGenerator g, SerializedString name, Boolean value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            g.writeBoolean(value.booleanValue());
        }
    }

    /** A JSON tree as the mapper writes one ({@code JsonNode} serialises itself, with the provider's settings). */
    private void tree(JsonGenerator g, SerializedString name, JsonNode value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            value.serialize(g, provider);
        }
    }

    /** A list of trees: a null element is written as null, as Jackson's collection serializer does. */
    private void trees(JsonGenerator g, SerializedString name, List<JsonNode> values) throws IOException {
        if (values != null) {
            g.writeFieldName(name);
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

    /** The string map: a null value is written as null (content inclusion ALWAYS); a null key is Jackson's error. */
    private static void tags(JsonGenerator g, Map<String, String> tags) throws IOException {
        if (tags != null) {
            g.writeFieldName(TAGS);
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

    /** The generator's output: a byte array that grows, kept from record to record. */
    private static final class Buffer extends OutputStream {
        static final int INITIAL = 4096;

        byte[] buf = new byte[INITIAL];
        int count;

        @Override
        public void write(int b) {
            ensure(1);
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        private void ensure(int more) {
            if (buf.length - count < more) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
            }
        }
    }
}
