package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.FinishReason;
import dev.forwarder.InferenceRecord;
import dev.forwarder.JsonInference;
import dev.forwarder.ModelInference;
import dev.forwarder.testkit.Golden;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The typed records' own writer against the oracle, Jackson's {@code writeValueAsBytes} with the codec's
 * mapper: the same bytes for the golden records and for a seeded corpus of records of every type, every
 * field present or absent, and JSON trees of every node kind with strings that need escaping.
 */
class RecordWriterTest {

    private static final int CORPUS = Integer.getInteger("record.corpus", 3_000);
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    private final EventCodec codec = new EventCodec();
    private final RecordWriter writer = codec.newWriter();

    @ParameterizedTest
    @EnumSource(DataType.class)
    void goldenRecordsAreWrittenAsJacksonWritesThem(DataType type) throws Exception {
        InferenceRecord record = codec.parse(type, Golden.json(type));
        codec.serialize(record, writer);
        assertSameBytes(codec.serialize(record), record);
        assertTrue(writer.keyOffset() >= 0, "the writer found the key");
    }

    @Test
    void seededCorpusIsWrittenAsJacksonWritesIt() throws Exception {
        long seed = Long.getLong("record.seed", 20261130L);
        Random random = new Random(seed);
        int written = 0;
        int generated = 0;
        for (int i = 0; i < CORPUS; i++) {
            InferenceRecord record = randomRecord(random);
            byte[] expected = codec.mapper().writeValueAsBytes(record); // lone surrogates too: Jackson writes them
            boolean wrote = writer.write(record);
            boolean extras = hasExtraFields(record);
            assertEquals(!extras, wrote, "record " + i + " (seed " + seed + "): written unless it has extra fields");
            if (wrote) {
                written++;
                generated += writer.lastGenerated() ? 1 : 0;
                assertSameBytes(expected, record);
                assertKey(record);
            }
        }
        assertTrue(written > CORPUS / 2, "most of the corpus went through the writer: " + written);
        // Both outputs are held to Jackson's bytes: directly written, and (a NaN, a binary or a POJO node in a
        // tree) through the generator.
        assertTrue(written - generated > CORPUS / 5, "written directly: " + (written - generated));
        assertTrue(generated > CORPUS / 10, "through Jackson's generator: " + generated);
    }

    /** The fast path's test of eight bytes at a time, against the byte-by-byte rule, every byte at every place. */
    @Test
    void textIsClassifiedExactly() {
        for (int length : new int[] {1, 7, 8, 9, 16, 23, 24}) {
            for (int at = 0; at < length; at++) {
                for (int b = 0; b < 256; b++) {
                    byte[] text = new byte[length];
                    Arrays.fill(text, (byte) 'a');
                    text[at] = (byte) b;
                    int expected = b < 0x20 || b >= 0x80
                            ? PlainText.OTHER
                            : b == '"' || b == '\\' ? PlainText.QUOTED : PlainText.PLAIN;
                    assertEquals(expected, PlainText.classify(text), "byte " + b + " at " + at + " of " + length);
                    if (expected != PlainText.OTHER && length > 1) {
                        text[(at + 1) % length] = (byte) 0x80; // and a byte above 0x7F after it makes it other
                        assertEquals(
                                PlainText.OTHER,
                                PlainText.classify(text),
                                "byte " + b + " at " + at + " of " + length + " with 0x80 after it");
                    }
                }
            }
        }
    }

    /** Quotes and backslashes at every place of words and tails: escaped as Jackson escapes them. */
    @Test
    void quotedTextIsEscapedAsJacksonEscapesIt() throws Exception {
        Random random = new Random(7);
        char[] alphabet = {'a', '"', '\\', ' ', 'z'};
        for (int i = 0; i < 20_000; i++) {
            char[] chars = new char[random.nextInt(41)];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = alphabet[random.nextInt(random.nextInt(8) == 0 ? alphabet.length : 1)];
            }
            String text = new String(chars);
            byte[] latin1 = text.getBytes(StandardCharsets.ISO_8859_1);
            byte[] out = new byte[2 * latin1.length];
            int end = PlainText.escape(latin1, out, 0);
            String jackson = codec.mapper().writeValueAsString(text);
            assertEquals(
                    jackson.substring(1, jackson.length() - 1),
                    new String(out, 0, end, StandardCharsets.ISO_8859_1),
                    "text " + text);
        }
    }

    @Test
    void theCodecGivesRecordsWithExtraFieldsToJacksonWithTheSameResult() {
        ChatInference record = chat(UUID.randomUUID(), "with extras");
        record.extraFields().put("carried", Map.of("a", List.of(1, 2)));
        EventCodec carrying = new EventCodec(count -> {}, true);
        RecordWriter own = carrying.newWriter();
        carrying.serialize(record, own);
        assertArrayEquals(carrying.serialize(record), Arrays.copyOf(own.bytes(), own.length()));
        assertEquals(-1, own.keyOffset(), "the key is found from the record then");
    }

    @Test
    void aWriteThatFailsHalfWayLeavesTheNextOneWhole() throws Exception {
        Map<String, String> badTags = new LinkedHashMap<>();
        badTags.put("first", "x");
        badTags.put(null, "no key");
        ChatInference bad = new ChatInference(
                UUID.randomUUID(),
                "f",
                "v",
                UUID.randomUUID(),
                null,
                null,
                null,
                null,
                1L,
                null,
                badTags,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        assertThrows(Exception.class, () -> writer.write(bad));
        ChatInference good = chat(UUID.randomUUID(), "after the failure");
        assertTrue(writer.write(good));
        assertSameBytes(codec.mapper().writeValueAsBytes(good), good);
    }

    @Test
    void aLargeRecordThenASmallOneAndTrim() throws Exception {
        ChatInference large = chat(UUID.randomUUID(), "x".repeat(3 << 20));
        assertTrue(writer.write(large));
        assertSameBytes(codec.mapper().writeValueAsBytes(large), large);
        writer.trim();
        ChatInference small = chat(UUID.randomUUID(), "small");
        assertTrue(writer.write(small));
        assertSameBytes(codec.mapper().writeValueAsBytes(small), small);
        assertTrue(writer.bytes().length < 1 << 20, "trim let the large buffer go");
    }

    @Test
    void theCheckStillRefusesNamingTheField() {
        ModelInference tooMany = new ModelInference(
                UUID.randomUUID(),
                UUID.randomUUID(),
                "{}",
                "{}",
                null,
                "[]",
                "[]",
                "m",
                "p",
                1L << 33,
                1L,
                1L,
                null,
                false,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> codec.serialize(tooMany, writer));
        assertTrue(e.getMessage().contains("input_tokens"), e.getMessage());
    }

    private void assertSameBytes(byte[] expected, InferenceRecord record) {
        byte[] actual = Arrays.copyOf(writer.bytes(), writer.length());
        if (!Arrays.equals(expected, actual)) {
            assertEquals(
                    new String(expected, StandardCharsets.UTF_8),
                    new String(actual, StandardCharsets.UTF_8),
                    "bytes of a " + record.dataType() + " record");
            assertArrayEquals(expected, actual); // equal as text, different as bytes
        }
    }

    private void assertKey(InferenceRecord record) {
        String key = MessageKeys.keyOf(record);
        if (writer.keyOffset() < 0) {
            return; // no id: the publisher asks MessageKeys
        }
        assertEquals(
                key,
                new String(writer.bytes(), writer.keyOffset(), writer.keyLength(), StandardCharsets.UTF_8),
                "the key's bytes");
    }

    private static boolean hasExtraFields(InferenceRecord record) {
        return !record.extraFields().isEmpty()
                || (record instanceof JsonInference j
                        && j.output() != null
                        && !j.output().extraFields().isEmpty());
    }

    private static ChatInference chat(UUID id, String text) {
        ObjectNode input = NODES.objectNode();
        input.putArray("messages").addObject().put("role", "user").put("content", text);
        ArrayNode output = NODES.arrayNode();
        output.addObject().put("type", "text").put("text", "ok");
        return new ChatInference(
                id,
                "f",
                "v",
                UUID.randomUUID(),
                input,
                output,
                null,
                null,
                12L,
                null,
                Map.of("k", "v"),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    // ---- the corpus ----

    private static InferenceRecord randomRecord(Random r) {
        UUID id = r.nextInt(20) == 0 ? null : uuid(r);
        Map<String, Object> extras = r.nextInt(8) == 0 ? Map.of("extra_" + r.nextInt(3), text(r)) : null;
        return switch (r.nextInt(3)) {
            case 0 ->
                new ModelInference(
                        id,
                        maybe(r, uuid(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        maybe(r, r.nextBoolean()),
                        maybe(r, FinishReason.values()[r.nextInt(FinishReason.values().length)]),
                        maybe(r, decimal(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        extras);
            case 1 ->
                new ChatInference(
                        id,
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, uuid(r)),
                        maybe(r, object(r, 0)),
                        maybe(r, array(r, 0)),
                        maybe(r, tree(r, 0)),
                        maybe(r, tree(r, 0)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        maybe(r, tags(r)),
                        maybe(r, tree(r, 0)),
                        maybe(r, text(r)),
                        maybe(r, trees(r)),
                        maybe(r, trees(r)),
                        maybe(r, tree(r, 0)),
                        maybe(r, tree(r, 0)),
                        maybe(r, r.nextBoolean()),
                        extras);
            default ->
                new JsonInference(
                        id,
                        maybe(r, text(r)),
                        maybe(r, text(r)),
                        maybe(r, uuid(r)),
                        maybe(r, object(r, 0)),
                        maybe(
                                r,
                                new JsonInference.Output(
                                        maybe(r, text(r)),
                                        maybe(r, tree(r, 0)),
                                        r.nextInt(10) == 0 ? Map.of("more", text(r)) : null)),
                        maybe(r, tree(r, 0)),
                        maybe(r, number(r)),
                        maybe(r, number(r)),
                        maybe(r, tags(r)),
                        maybe(r, tree(r, 0)),
                        maybe(r, tree(r, 0)),
                        maybe(r, tree(r, 0)),
                        maybe(r, text(r)),
                        extras);
        };
    }

    private static <T> T maybe(Random r, T value) {
        return r.nextInt(3) == 0 ? null : value;
    }

    private static UUID uuid(Random r) {
        return new UUID(r.nextLong(), r.nextLong());
    }

    private static Long number(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> 0L;
            case 1 -> (long) r.nextInt(1000);
            case 2 -> 4_294_967_295L;
            default -> r.nextLong();
        };
    }

    private static BigDecimal decimal(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> new BigDecimal("0.000000001");
            case 1 -> new BigDecimal("1E+3");
            case 2 -> BigDecimal.valueOf(r.nextInt(100_000), r.nextInt(10));
            default -> new BigDecimal("-0.00");
        };
    }

    private static final String[] PIECES = {
        "a",
        "hello world",
        "\"",
        "\\",
        "/",
        "\n",
        "\t",
        "\r",
        "\u0001",
        "\u001f",
        "\u007f",
        "é",
        "漢字",
        "😀",
        "</script>",
        "{\"json\":\"as text\"}",
        " ",
        "0",
        "null",
        "\u2028",
        "\uFEFF"
    };

    private static String text(Random r) {
        int n = r.nextInt(10) == 0 ? 300 : r.nextInt(8);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(PIECES[r.nextInt(PIECES.length)]);
        }
        return b.toString();
    }

    private static Map<String, String> tags(Random r) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            tags.put(text(r), r.nextInt(6) == 0 ? null : text(r));
        }
        return tags;
    }

    private static List<JsonNode> trees(Random r) {
        List<JsonNode> trees = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            trees.add(r.nextInt(6) == 0 ? null : object(r, 1));
        }
        return trees;
    }

    static JsonNode tree(Random r, int depth) {
        return switch (r.nextInt(depth > 3 ? 2 : 4)) {
            case 0 -> scalar(r);
            case 1 -> r.nextBoolean() ? NODES.textNode(text(r)) : NODES.nullNode();
            case 2 -> object(r, depth + 1);
            default -> array(r, depth + 1);
        };
    }

    private static ObjectNode object(Random r, int depth) {
        ObjectNode node = NODES.objectNode();
        for (int i = r.nextInt(5); i > 0; i--) {
            node.set(text(r), tree(r, depth + 1));
        }
        return node;
    }

    private static ArrayNode array(Random r, int depth) {
        ArrayNode node = NODES.arrayNode();
        for (int i = r.nextInt(5); i > 0; i--) {
            node.add(tree(r, depth + 1));
        }
        return node;
    }

    private static JsonNode scalar(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> NODES.numberNode(r.nextInt());
            case 1 -> NODES.numberNode(r.nextLong());
            case 2 -> NODES.numberNode(BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE));
            case 3 -> NODES.numberNode(new BigDecimal("1e400"));
            case 4 -> NODES.numberNode(r.nextDouble() * 1e10);
            case 5 -> r.nextBoolean() ? NODES.numberNode(Double.NaN) : NODES.numberNode(r.nextFloat() * 1e5f);
            case 6 -> NODES.booleanNode(r.nextBoolean());
            case 7 -> NODES.binaryNode(text(r).getBytes(StandardCharsets.UTF_8));
            case 8 ->
                switch (r.nextInt(4)) {
                    case 0 -> NODES.pojoNode(Map.of("pojo", List.of(1, "two")));
                    case 1 -> NODES.rawValueNode(new RawValue("{\"raw\":[1,\"two\"]}")); // putRawValue's
                    case 2 -> NODES.rawValueNode(new RawValue("[\"" + text(r) + "\"]")); // perhaps not ASCII
                    default -> NODES.rawValueNode(new RawValue(r.nextBoolean() ? "" : "[")); // not JSON: Jackson's
                };
            default ->
                r.nextBoolean() ? NODES.numberNode(new BigDecimal("0.0")) : NODES.numberNode((short) r.nextInt());
        };
    }
}
