package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Text written directly, against Jackson's bytes for the same string with the codec's mapper: every character
 * below U+0100 at every place of texts held as Latin-1 (read eight bytes a test) and as UTF-16 (a character
 * beyond Latin-1 elsewhere in the text), and random text over all of the Basic Multilingual Plane.
 */
class JsonBytesTest {

    private final ObjectMapper mapper = new EventCodec().mapper();

    @Test
    void everyLatin1CharacterAtEveryPlaceIsWrittenAsJacksonWritesIt() throws Exception {
        assertNotNull(
                PlainText.latin1("sixteen chars or more"),
                "a Latin-1 string's own bytes are read (--add-opens java.base/java.lang): the path tested here");
        for (int length : new int[] {16, 17, 23, 24, 25, 40}) {
            for (int at = 0; at < length; at++) {
                for (char c = 0; c < 0x100; c++) {
                    char[] chars = new char[length];
                    Arrays.fill(chars, 'a');
                    chars[at] = c;
                    assertSame(new String(chars)); // Latin-1: the word-at-a-time path
                    chars[(at + 1) % length] = '漢';
                    assertSame(new String(chars)); // UTF-16: character by character
                }
            }
        }
    }

    /**
     * Two characters of Latin-1 text that need an escape or two UTF-8 bytes (or plain ones beside them), at every
     * two places of a 16 - 17 character text (so in one word and in two), against Jackson's bytes.
     */
    @Test
    void everyPairOfCharactersToEscapeAtEveryTwoPlacesIsWrittenAsJacksonWritesIt() throws Exception {
        char[] kinds = {'"', '\\', '\n', 0x01, 0x1F, 0x7F, 0x80, 0xE9, 0xFF, ' ', 'z'};
        for (int length : new int[] {16, 17}) {
            for (int at = 0; at < length; at++) {
                for (int second = at + 1; second < length; second++) {
                    for (char c : kinds) {
                        for (char d : kinds) {
                            char[] chars = new char[length];
                            Arrays.fill(chars, 'a');
                            chars[at] = c;
                            chars[second] = d;
                            assertSame(new String(chars));
                        }
                    }
                }
            }
        }
    }

    @Test
    void randomTextIsWrittenAsJacksonWritesIt() throws Exception {
        Random random = new Random(20261130L);
        for (int i = 0; i < 20_000; i++) {
            char[] chars = new char[random.nextInt(60)];
            int range = random.nextBoolean() ? 0x100 : 0x10000; // Latin-1 only, or any char (surrogates too)
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) (random.nextInt(4) == 0 ? random.nextInt(range) : 'a' + random.nextInt(26));
                if (range > 0x100 && random.nextInt(8) == 0 && j + 1 < chars.length) {
                    String emoji = Character.toString(0x1F600 + random.nextInt(80)); // a pair
                    chars[j] = emoji.charAt(0);
                    chars[++j] = emoji.charAt(1);
                }
            }
            assertSame(new String(chars));
        }
    }

    /**
     * A raw value held as Latin-1 (copied eight bytes at a time where all are ASCII): every character below U+0100
     * at every place of 1 - 24 character texts, as bytes and as text, against Jackson's.
     */
    @Test
    void everyLatin1CharacterAtEveryPlaceOfARawValueIsWrittenAsJacksonWritesIt() throws Exception {
        for (int length = 1; length <= 24; length++) {
            for (int at = 0; at < length; at++) {
                for (char c = 0; c < 0x100; c++) {
                    char[] chars = new char[length];
                    Arrays.fill(chars, 'a');
                    chars[at] = c;
                    String raw = new String(chars);
                    ArrayNode tree = JsonNodeFactory.instance.arrayNode().add(1).addRawValue(new RawValue(raw));
                    tree.add(2);
                    if ((c == '{' || c == '[') && at == length - 1) { // ending in a brace or bracket: Jackson's
                        assertThrows(JsonBytes.NotDirect.class, () -> new JsonBytes().tree(tree), raw);
                    } else {
                        assertTreeSame(tree, "char " + (int) c + " at " + at + " of " + length);
                    }
                }
            }
        }
    }

    /**
     * Raw values ({@code putRawValue}) of random text: ASCII, Latin-1, any BMP character, emoji pairs and lone
     * surrogates, in an object between two fields, as bytes and as text; written directly unless a surrogate is
     * alone (then Jackson's: it refuses it as bytes, writes it as it is as text).
     */
    @Test
    void rawValuesAreWrittenAsJacksonWritesThem() throws Exception {
        Random random = new Random(27L);
        int direct = 0;
        for (int i = 0; i < 20_000; i++) {
            char[] chars = new char[1 + random.nextInt(60)];
            int range = new int[] {0x80, 0x100, 0x10000}[random.nextInt(3)];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) (random.nextInt(4) == 0 ? random.nextInt(range) : 'a' + random.nextInt(26));
                if (range > 0x100 && random.nextInt(8) == 0 && j + 1 < chars.length) {
                    String emoji = Character.toString(0x1F600 + random.nextInt(80));
                    chars[j] = emoji.charAt(0);
                    chars[++j] = emoji.charAt(1);
                }
            }
            chars[chars.length - 1] = 'z'; // a value never ends in a brace or bracket (those are Jackson's)
            String raw = new String(chars);
            ObjectNode tree = JsonNodeFactory.instance.objectNode().put("before", 1);
            tree.putRawValue("raw", new RawValue(raw));
            tree.put("after", "x");
            String what = "the raw value "
                    + raw.chars().mapToObj(Integer::toHexString).toList();
            if (hasLoneSurrogate(raw)) {
                assertThrows(JsonBytes.NotDirect.class, () -> new JsonBytes().tree(tree), what);
                assertThrows(JsonBytes.NotDirect.class, () -> new JsonBytes(true).tree(tree), what);
                continue;
            }
            assertTreeSame(tree, what);
            direct++;
        }
        assertTrue(direct > 15_000, "written directly: " + direct);
    }

    /**
     * Text written as Latin-1 until a character beyond U+00FF comes, then made UTF-8: trees of texts in every
     * order (ASCII, Latin-1 beyond ASCII, UTF-16, an emoji, raw values of each, numbers, names beyond ASCII), one
     * buffer reset from tree to tree, against {@code writeValueAsString}.
     */
    @Test
    void textTurnsFromLatin1ToUtf8WhereverTheFirstWiderCharacterComes() throws Exception {
        String[] pieces = {"plain ascii text", "Grüße aus Köln, »schön«", "漢字のテキスト", "emoji 😀 here", "é", "ß", "x"};
        Random random = new Random(1130L);
        JsonBytes text = new JsonBytes(true);
        for (int i = 0; i < 5_000; i++) {
            ObjectNode tree = JsonNodeFactory.instance.objectNode();
            for (int f = random.nextInt(6); f >= 0; f--) {
                String piece = pieces[random.nextInt(pieces.length)] + "\"\n" + pieces[random.nextInt(pieces.length)];
                String name = pieces[random.nextInt(pieces.length)] + f;
                switch (random.nextInt(4)) {
                    case 0 -> tree.put(name, piece);
                    case 1 -> tree.putRawValue(name, new RawValue("\"" + piece.replace("\n", "") + "\""));
                    case 2 ->
                        tree.putArray(name).add(random.nextInt(100) / 10.0).add(piece);
                    default -> tree.putObject(name).put(piece, random.nextBoolean());
                }
            }
            text.reset();
            text.tree(tree);
            assertEquals(mapper.writeValueAsString(tree), text.text(), "tree " + i + ": " + tree);
        }
    }

    /**
     * UTF-8 made text ({@link JsonBytes#text}, its own decoder, eight ASCII bytes at a time): a character of each
     * UTF-8 length at every place of texts of 1 - 40 characters of ASCII or Latin-1, and 20,000 random texts,
     * against the JDK's decoding: equal both ways, the same hash, the same order (a string held as UTF-16 that
     * could be Latin-1 would not equal its Latin-1 twin).
     */
    @Test
    void utf8IsMadeTextAsTheJdkDecodesIt() throws Exception {
        JsonBytes text = new JsonBytes(true);
        String[] wide = {"é", "Ā", "あ", "😀", "\uFFFF", "\u0800"};
        for (int length = 1; length <= 40; length++) {
            for (String base : new String[] {"a", "ü"}) {
                for (String w : wide) {
                    for (int at = 0; at < length; at++) {
                        String s = base.repeat(at) + w + base.repeat(length - at - 1);
                        assertDecoded(text, s);
                    }
                }
            }
        }
        Random random = new Random(20261130L);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder s = new StringBuilder();
            int range = new int[] {0x80, 0x100, 0x800, 0xD800}[random.nextInt(4)];
            for (int j = random.nextInt(80); j >= 0; j--) {
                switch (random.nextInt(6)) {
                    case 0 -> s.appendCodePoint(0x1F600 + random.nextInt(80));
                    case 1, 2 -> s.append((char) random.nextInt(range));
                    default -> s.append((char) ('a' + random.nextInt(26)));
                }
            }
            assertDecoded(text, s.toString());
        }
    }

    private static void assertDecoded(JsonBytes text, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        text.reset();
        text.write(utf8, 0, utf8.length); // as a stream: UTF-8
        String made = text.text();
        String what = s.chars().mapToObj(Integer::toHexString).toList().toString();
        assertEquals(s, made, what);
        assertEquals(made, s, what);
        assertEquals(s.hashCode(), made.hashCode(), what);
        assertEquals(0, s.compareTo(made), what);
    }

    /** Doubles and floats in trees, a few values again and again (the writer keeps the text of recent ones). */
    @Test
    void numbersInTreesAreWrittenAsJacksonWritesThem() throws Exception {
        Random random = new Random(20261130L);
        double[] pool = new double[40];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = switch (i % 4) {
                case 0 -> random.nextInt(100) / 10.0;
                case 1 -> random.nextDouble();
                case 2 -> -random.nextDouble() * 1e300;
                default -> Double.MIN_VALUE * random.nextInt(1000);
            };
        }
        JsonBytes out = new JsonBytes();
        for (int i = 0; i < 10_000; i++) {
            double d = pool[random.nextInt(pool.length)];
            ArrayNode node = JsonNodeFactory.instance.arrayNode().add(d).add((long) d);
            if (Float.isFinite((float) d)) {
                node.add((float) d); // one that is not is Jackson's to write (quoted): NotDirect
            }
            out.count = 0;
            out.tree(node);
            assertEquals(
                    mapper.writeValueAsString(node),
                    new String(out.buf, 0, out.count, StandardCharsets.US_ASCII),
                    "the bytes of " + d);
        }
    }

    /** {@code tree} written directly as bytes and as text, against Jackson's bytes and text. */
    private void assertTreeSame(JsonNode tree, String what) throws Exception {
        JsonBytes bytes = new JsonBytes();
        bytes.tree(tree);
        assertEquals(
                new String(mapper.writeValueAsBytes(tree), StandardCharsets.ISO_8859_1),
                new String(bytes.buf, 0, bytes.count, StandardCharsets.ISO_8859_1),
                what);
        JsonBytes text = new JsonBytes(true);
        text.tree(tree);
        assertEquals(mapper.writeValueAsString(tree), text.text(), "as text: " + what);
    }

    /** As bytes ({@code writeValueAsBytes}) and as text ({@code writeValueAsString}: surrogates as they are). */
    private void assertSame(String text) throws Exception {
        JsonBytes out = new JsonBytes();
        out.string(text);
        byte[] expected = mapper.writeValueAsBytes(text);
        byte[] actual = Arrays.copyOf(out.buf, out.count);
        String chars = text.chars().mapToObj(Integer::toHexString).toList().toString();
        if (!Arrays.equals(expected, actual)) {
            assertEquals(
                    new String(expected, StandardCharsets.ISO_8859_1),
                    new String(actual, StandardCharsets.ISO_8859_1),
                    "the bytes of " + chars);
        }
        JsonBytes forText = new JsonBytes(true);
        if (hasLoneSurrogate(text)) {
            assertThrows(JsonBytes.NotDirect.class, () -> forText.string(text), "left to Jackson: " + chars);
        } else {
            forText.string(text);
            assertEquals(mapper.writeValueAsString(text), forText.text(), "the text of " + chars);
        }
    }

    private static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
