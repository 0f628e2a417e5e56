package dev.forwarder.internal.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.io.Writer;
import java.util.Arrays;

/**
 * JSON trees as text, the same characters as the mapper's {@code writeValueAsString}, for records that hold JSON
 * as a string ({@code raw_request}, {@code input_messages}, {@code output} of a model inference). Jackson's call
 * makes a serializer provider, a generator and a segmented buffer per call and copies the text twice; this writes
 * the tree straight into a byte buffer kept from use to use ({@link JsonBytes}: as Latin-1 while the characters
 * fit, else as UTF-8 that decodes to them), in a {@link Pool}, and makes the string from it; a tree holding a value only Jackson writes as it
 * does goes to a kept character generator (long ASCII text copied: {@link PlainText}). Thread-safe.
 */
public final class JsonTexts {

    private final Pool<TextWriter> writers;

    public JsonTexts(ObjectMapper mapper) {
        this.writers = new Pool<>(() -> new TextWriter(mapper), TextWriter::trim);
    }

    /** {@code tree} as compact JSON text, as {@code mapper.writeValueAsString(tree)} writes it. */
    public String write(JsonNode tree) throws IOException {
        TextWriter writer = writers.take();
        try {
            return writer.write(tree);
        } finally {
            writers.give(writer);
        }
    }

    private static final class TextWriter {
        private static final int KEEP_CHARS = 1 << 19;

        private final ObjectMapper mapper;
        private final SerializerProvider provider;
        /** Where a tree is written directly, as Latin-1 or UTF-8 that decodes to the same text. */
        private final JsonBytes bytes = new JsonBytes(true);
        /** Where the generator writes, for a tree {@link JsonBytes} leaves to it. */
        private final Chars out = new Chars();
        /** Null before the first tree and after a failed one (its state is unknown). */
        private JsonGenerator generator;

        TextWriter(ObjectMapper mapper) {
            this.mapper = mapper;
            this.provider = mapper.getSerializerProviderInstance();
        }

        String write(JsonNode tree) throws IOException {
            bytes.reset();
            try {
                bytes.tree(tree);
                return bytes.text();
            } catch (JsonBytes.NotDirect e) {
                return generate(tree); // a value only Jackson writes as it does, or a lone surrogate
            }
        }

        private String generate(JsonNode tree) throws IOException {
            out.count = 0;
            JsonGenerator g = generator;
            if (g == null) {
                JsonGenerator jackson = mapper.createGenerator(out);
                jackson.setRootValueSeparator(null); // trees follow one another in the stream: no space between them
                g = new PlainText.CharGenerator(jackson);
            }
            generator = null; // until this tree is written whole
            tree.serialize(g, provider);
            g.flush();
            generator = g;
            return new String(out.buf, 0, out.count);
        }

        void trim() {
            bytes.trim(2 * KEEP_CHARS);
            if (out.buf.length > KEEP_CHARS) {
                out.buf = new char[Chars.INITIAL];
            }
            if (generator instanceof PlainText.FastGenerator fast) {
                fast.trim();
            }
        }
    }

    /** The generator's output: a char array that grows, kept from tree to tree. */
    private static final class Chars extends Writer {
        static final int INITIAL = 2048;

        char[] buf = new char[INITIAL];
        int count;

        @Override
        public void write(char[] c, int off, int len) {
            ensure(len);
            System.arraycopy(c, off, buf, count, len);
            count += len;
        }

        @Override
        public void write(String s, int off, int len) {
            ensure(len);
            s.getChars(off, off + len, buf, count);
            count += len;
        }

        @Override
        public void write(int c) {
            ensure(1);
            buf[count++] = (char) c;
        }

        private void ensure(int more) {
            if (buf.length - count < more) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
