package dev.forwarder.internal.json;

import com.fasterxml.jackson.core.io.NumberOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigDecimal;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * A byte buffer kept from record to record that a record's JSON is written into: by Jackson's generator (this
 * is its output stream), or directly, value by value, as exactly the bytes the codec's mapper writes for the
 * values typed records hold: text, integers, decimals, booleans and JSON trees of objects, arrays, text,
 * numbers, booleans and nulls. Jackson's output, as written here: control characters escaped as {@code \b},
 * {@code \t}, {@code \n}, {@code \f}, {@code \r} or {@code \}{@code u00XX} (upper-case hex), quotes and
 * backslashes with a backslash, every other character but a surrogate as UTF-8; a surrogate (an emoji's half,
 * or a lone one) as {@code \}{@code uXXXX}; a raw value's text as it is; a decimal as its {@code toString()}, a
 * double as {@link NumberOutput} writes it. For text ({@code forText}: Jackson's {@code writeValueAsString}), the
 * same characters, written as Latin-1 while they fit and as UTF-8 from the first that does not. What this does
 * not write as Jackson does (a number that is not finite, a tree node of another kind, a lone surrogate where
 * Jackson writes it as it is or refuses it) is {@link NotDirect}: the caller starts again through Jackson's
 * generator.
 *
 * <p>Separators: a field name or an array element is preceded by a comma unless it is the first of its object
 * or array, which the byte before it tells (an opening brace or bracket; no JSON value ends in either).
 */
final class JsonBytes extends OutputStream {

    static final int INITIAL = 4096;

    private static final int DOUBLE_SLOTS = 16;

    /** A value this class does not write as Jackson does: the record goes to Jackson's generator. */
    static final class NotDirect extends IOException {
        private static final long serialVersionUID = 1L;

        private NotDirect() {
            super("left to Jackson");
        }

        /** One instance, thrown often enough on some records: no stack trace to fill. */
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    static final NotDirect NOT_DIRECT = new NotDirect();

    /** For each ASCII character: 0 written as it is, -1 as {@code \}{@code u00XX}, else the letter after a backslash. */
    private static final byte[] ESCAPES = new byte[128];

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPES[c] = -1;
        }
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\n'] = 'n';
        ESCAPES['\f'] = 'f';
        ESCAPES['\r'] = 'r';
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
    }

    byte[] buf = new byte[INITIAL];
    int count;

    /**
     * Whether the bytes are to become text, as Jackson's character generator writes it ({@code
     * writeValueAsString}): the same escapes but for surrogates, which it writes as they are (here a pair's
     * UTF-8; a lone one is {@link NotDirect}). Else as its byte generator writes them.
     */
    private final boolean forText;

    /**
     * For text: whether every character written since {@link #reset} is one byte, its Latin-1 code, which
     * {@link #text} then copies as it is (a Latin-1 string, as the JVM holds it). Until a character beyond
     * U+00FF comes; then what was written is made UTF-8 ({@link #toUtf8}) and the rest is written so.
     */
    private boolean latin1Text;

    /** For JSON bytes, as Jackson's byte generator writes them. */
    JsonBytes() {
        this(false);
    }

    /** @param forText whether the bytes are to become text ({@link #text()}), as {@code writeValueAsString} writes */
    JsonBytes(boolean forText) {
        this.forText = forText;
        this.latin1Text = forText;
    }

    /** Empty, for the next JSON value (text written as Latin-1 again until it cannot be). */
    void reset() {
        count = 0;
        latin1Text = forText;
    }

    /** What was written as Latin-1, made UTF-8 in place: a byte above 0x7F becomes two. */
    private void toUtf8() {
        latin1Text = false;
        int high = 0;
        for (int i = 0; i < count; i++) {
            high += buf[i] >>> 31; // a byte above 0x7F is negative
        }
        if (high == 0) {
            return;
        }
        ensure(high);
        byte[] b = buf;
        int to = count + high;
        for (int from = count - 1; from >= 0; from--) {
            byte c = b[from];
            if (c >= 0) {
                b[--to] = c;
            } else {
                b[--to] = (byte) (0x80 | (c & 0x3F));
                b[--to] = (byte) (0xC0 | ((c & 0xFF) >> 6));
            }
        }
        count += high;
    }

    /**
     * The text of doubles written lately, by their bits (a slot each, by a hash of the bits): a sampling
     * temperature or a top-p is the same few values call after call, and turning a double into its shortest
     * text (JDK 17's {@code Double.toString}) costs as much as writing a hundred bytes of text.
     */
    private final long[] doubleBits = new long[DOUBLE_SLOTS];

    private final byte[][] doubleTexts = new byte[DOUBLE_SLOTS][];

    /** The walk of an object's fields ({@link #tree}). */
    private final Fields fields = new Fields();

    /** Where {@link #text} decodes text that is not ASCII, kept from use to use. */
    private char[] chars = new char[0];

    /**
     * What was written, as text (for a buffer made {@code forText}). Latin-1 text and ASCII are copied as they
     * are; other text is decoded here, into a kept array, and made a string once: the JDK's UTF-8 decoder would
     * first try it as Latin-1, then as UTF-16 in an array of twice the bytes, then trim it (three arrays, eleven
     * bytes a character for Japanese).
     */
    String text() {
        if (latin1Text) {
            return new String(buf, 0, count, StandardCharsets.ISO_8859_1);
        }
        byte[] b = buf;
        int n = count;
        int i = 0;
        while (i <= n - 8 && ((long) LONGS.get(b, i) & 0x8080808080808080L) == 0) {
            i += 8;
        }
        while (i < n && b[i] >= 0) {
            i++;
        }
        return i == n ? new String(b, 0, n, StandardCharsets.ISO_8859_1) : decoded(i);
    }

    /** The UTF-8 written here (valid: a lone surrogate is never written) as a string; the first bytes ASCII. */
    private String decoded(int ascii) {
        byte[] b = buf;
        int n = count;
        char[] c = chars.length >= n ? chars : (chars = new char[Math.max(n, 2 * chars.length)]);
        for (int i = 0; i < ascii; i++) {
            c[i] = (char) b[i];
        }
        int p = ascii;
        for (int i = ascii; i < n; ) {
            int x = b[i];
            if (x >= 0) {
                if (i <= n - 8 && ((long) LONGS.get(b, i) & 0x8080808080808080L) == 0) {
                    for (int k = 0; k < 8; k++) { // eight ASCII bytes
                        c[p + k] = (char) b[i + k];
                    }
                    p += 8;
                    i += 8;
                } else {
                    c[p++] = (char) x;
                    i++;
                }
            } else if ((x & 0xE0) == 0xC0) {
                c[p++] = (char) (((x & 0x1F) << 6) | (b[i + 1] & 0x3F));
                i += 2;
            } else if ((x & 0xF0) == 0xE0) {
                c[p++] = (char) (((x & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F));
                i += 3;
            } else {
                int code =
                        ((x & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
                c[p++] = Character.highSurrogate(code);
                c[p++] = Character.lowSurrogate(code);
                i += 4;
            }
        }
        return new String(c, 0, p);
    }

    /** A field name as {@link #name} writes it: quoted, with its colon (names of ours: ASCII, nothing to escape). */
    static byte[] fieldName(String name) {
        return ('"' + name + "\":").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void write(int b) {
        if (latin1Text) {
            toUtf8(); // bytes written as a stream are UTF-8
        }
        ensure(1);
        buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (latin1Text) {
            toUtf8();
        }
        ensure(len);
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    private void ensure(int more) {
        if (buf.length - count < more) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
        }
    }

    /** Lets a buffer grown for one large record go, so that a pooled writer does not keep it. */
    void trim(int keep) {
        if (buf.length > keep) {
            buf = new byte[INITIAL];
        }
        if (chars.length > keep) {
            chars = new char[0];
        }
    }

    void startObject() {
        ensure(1);
        buf[count++] = '{';
    }

    void endObject() {
        ensure(1);
        buf[count++] = '}';
    }

    /** A field name of ours ({@link #fieldName}), after a comma unless it is its object's first. */
    void name(byte[] name) {
        ensure(name.length + 1);
        separate();
        System.arraycopy(name, 0, buf, count, name.length);
        count += name.length;
    }

    /** A comma unless the next field or element is its object's or array's first; one byte of room ensured. */
    private void separate() {
        byte last = buf[count - 1];
        if (last != '{' && last != '[') {
            buf[count++] = ',';
        }
    }

    void bool(boolean value) {
        bytes(value ? TRUE : FALSE);
    }

    private void bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, count, b.length);
        count += b.length;
    }

    /** An integer in decimal. */
    void number(long value) {
        if (value == Long.MIN_VALUE) {
            ascii("-9223372036854775808");
            return;
        }
        ensure(20);
        if (value < 0) {
            buf[count++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value / 10; v != 0; v /= 10) {
            digits++;
        }
        int end = count + digits;
        for (int i = end - 1; i >= count; i--) {
            buf[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        count = end;
    }

    /** A finite double as Jackson writes one ({@link NumberOutput}, not its fast writer: the mapper's default). */
    private void number(double value) {
        long bits = Double.doubleToRawLongBits(value);
        int slot = (int) ((bits * 0x9E3779B97F4A7C15L) >>> 60); // the top four bits of a multiplicative hash
        byte[] text = doubleTexts[slot];
        if (text == null || doubleBits[slot] != bits) {
            text = NumberOutput.toString(value, false).getBytes(StandardCharsets.US_ASCII);
            doubleTexts[slot] = text;
            doubleBits[slot] = bits;
        }
        bytes(text);
    }

    /** A decimal as Jackson writes one with the mapper's settings (not as plain): its {@code toString()}. */
    void decimal(BigDecimal value) {
        ascii(value.toString());
    }

    /** Text known to be ASCII with nothing to escape (a number's), unquoted. */
    private void ascii(String text) {
        int n = text.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[count + i] = (byte) text.charAt(i);
        }
        count += n;
    }

    /** A UUID's canonical lower-case text, quoted; returns where the text (after the quote) starts. */
    int uuid(UUID value) {
        ensure(38 + 8); // eight bytes written at a time, the last reaching past the closing quote
        byte[] b = buf;
        b[count++] = '"';
        int at = count;
        long msb = value.getMostSignificantBits();
        long lsb = value.getLeastSignificantBits();
        LONGS.set(b, at, hex8((int) (msb >>> 32)));
        b[at + 8] = '-';
        LONGS.set(b, at + 9, hex8((int) (msb >>> 16) << 16)); // four digits, then four to be overwritten
        b[at + 13] = '-';
        LONGS.set(b, at + 14, hex8((int) msb << 16));
        b[at + 18] = '-';
        LONGS.set(b, at + 19, hex8((int) (lsb >>> 48) << 16));
        b[at + 23] = '-';
        LONGS.set(b, at + 24, hex8((int) (lsb >>> 32) << 16));
        LONGS.set(b, at + 28, hex8((int) lsb));
        count = at + 36;
        b[count++] = '"';
        return at;
    }

    /**
     * The eight lower-case hex digits of {@code v}, most significant first when the long is stored
     * little-endian: each nibble spread to a byte, then '0' added, and 'a' - '0' - 10 more where it is 10 or more.
     */
    static long hex8(int v) {
        long x = Integer.toUnsignedLong(v);
        x = ((x & 0xFFFF0000L) << 16) | (x & 0xFFFFL);
        x = ((x & 0x0000FF000000FF00L) << 8) | (x & 0x000000FF000000FFL);
        x = ((x & 0x00F000F000F000F0L) << 4) | (x & 0x000F000F000F000FL);
        long letters = ((x + 0x0606060606060606L) >>> 4) & 0x0101010101010101L;
        x += 0x3030303030303030L + letters * ('a' - '0' - 10);
        return Long.reverseBytes(x);
    }

    /** {@code text} quoted and escaped as Jackson escapes it. */
    void string(String text) throws NotDirect {
        byte[] latin1 = PlainText.latin1Bytes(text);
        if (latin1 != null) {
            latin1(latin1);
            return;
        }
        if (latin1Text) {
            toUtf8(); // held as UTF-16: a character beyond U+00FF, as good as certain
        }
        int n = text.length();
        ensure(6 * n + 2); // at most six bytes a character: an escape
        byte[] b = buf;
        int p = count;
        b[p++] = '"';
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                byte escape = ESCAPES[c];
                if (escape == 0) {
                    b[p++] = (byte) c;
                } else if (escape > 0) {
                    b[p++] = '\\';
                    b[p++] = escape;
                } else {
                    p = unicodeEscape(c, b, p);
                }
            } else if (!Character.isSurrogate(c)) {
                p = utf8(c, b, p);
            } else if (!forText) {
                p = unicodeEscape(c, b, p); // as Jackson's byte generator writes each half, paired or not
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                // Its character generator writes the pair as it is: here its UTF-8, which decodes to the pair
                p = utf8Pair(Character.toCodePoint(c, text.charAt(++i)), b, p);
            } else {
                throw NOT_DIRECT; // a lone half, which UTF-8 cannot hold
            }
        }
        b[p++] = '"';
        count = p;
    }

    /**
     * Text the JVM holds as Latin-1 ({@link PlainText#latin1}: its own bytes), eight bytes a test: copied where
     * none needs an escape, else byte by byte (a byte above 0x7F is a character below U+0100: two UTF-8 bytes).
     */
    private void latin1(byte[] text) {
        int n = text.length;
        ensure(6 * n + 2);
        byte[] b = buf;
        int p = count;
        b[p++] = '"';
        boolean utf8 = !latin1Text;
        int i = 0;
        for (int words = n - 7; i < words; i += 8) {
            if (PlainText.mayNeedEscape(text, i)) {
                for (int j = i; j < i + 8; j++) {
                    p = latin1(text[j], b, p, utf8);
                }
            } else {
                PlainText.putLong(b, p, text, i);
                p += 8;
            }
        }
        for (; i < n; i++) {
            p = latin1(text[i], b, p, utf8);
        }
        b[p++] = '"';
        count = p;
    }

    /** One Latin-1 character, escaped; above 0x7F as UTF-8 (two bytes) or, for Latin-1 text, as it is. */
    private static int latin1(byte c, byte[] b, int p, boolean utf8) {
        if (c >= 0) {
            byte escape = ESCAPES[c];
            if (escape == 0) {
                b[p++] = c;
            } else if (escape > 0) {
                b[p++] = '\\';
                b[p++] = escape;
            } else {
                p = unicodeEscape((char) c, b, p);
            }
        } else if (utf8) {
            int ch = c & 0xFF;
            b[p++] = (byte) (0xC0 | (ch >> 6));
            b[p++] = (byte) (0x80 | (ch & 0x3F));
        } else {
            b[p++] = c;
        }
        return p;
    }

    /** A character from U+0080 on that is not a surrogate, as UTF-8: two or three bytes. */
    private static int utf8(char c, byte[] b, int p) {
        if (c < 0x800) {
            b[p++] = (byte) (0xC0 | (c >> 6));
        } else {
            b[p++] = (byte) (0xE0 | (c >> 12));
            b[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        }
        b[p++] = (byte) (0x80 | (c & 0x3F));
        return p;
    }

    /** A code point beyond U+FFFF (a surrogate pair's) as UTF-8: four bytes. */
    private static int utf8Pair(int code, byte[] b, int p) {
        b[p++] = (byte) (0xF0 | (code >> 18));
        b[p++] = (byte) (0x80 | ((code >> 12) & 0x3F));
        b[p++] = (byte) (0x80 | ((code >> 6) & 0x3F));
        b[p++] = (byte) (0x80 | (code & 0x3F));
        return p;
    }

    private static int unicodeEscape(char c, byte[] b, int p) {
        b[p++] = '\\';
        b[p++] = 'u';
        b[p++] = HEX[(c >> 12) & 0xF];
        b[p++] = HEX[(c >> 8) & 0xF];
        b[p++] = HEX[(c >> 4) & 0xF];
        b[p++] = HEX[c & 0xF];
        return p;
    }

    void nullValue() {
        bytes(NULL);
    }

    /** The string map of {@code tags}: null values written as null; a null key is Jackson's (its error). */
    void tags(Map<String, String> tags) throws NotDirect {
        startObject();
        for (Map.Entry<String, String> tag : tags.entrySet()) {
            if (tag.getKey() == null) {
                throw NOT_DIRECT;
            }
            treeName(tag.getKey());
            if (tag.getValue() == null) {
                nullValue();
            } else {
                string(tag.getValue());
            }
        }
        endObject();
    }

    /** A name of a tree's or a map's field: any text, escaped, after its comma, with its colon. */
    private void treeName(String name) throws NotDirect {
        ensure(1);
        separate();
        string(name);
        ensure(1);
        buf[count++] = ':';
    }

    /** An array element's comma. */
    void element() {
        ensure(1);
        separate();
    }

    void startArray() {
        ensure(1);
        buf[count++] = '[';
    }

    void endArray() {
        ensure(1);
        buf[count++] = ']';
    }

    /**
     * A JSON tree as {@code JsonNode.serialize} writes it with the mapper's defaults (fields in their order,
     * null fields and empty arrays written).
     */
    void tree(JsonNode node) throws NotDirect {
        switch (node.getNodeType()) {
            case OBJECT -> {
                if (!(node instanceof ObjectNode object)) {
                    throw NOT_DIRECT;
                }
                startObject();
                // Its map's own walk, not an iterator (which this recursion allocates, a few per record)
                object.forEachEntry(fields);
                if (fields.notDirect) {
                    fields.notDirect = false;
                    throw NOT_DIRECT;
                }
                endObject();
            }
            case ARRAY -> {
                startArray();
                for (int i = 0, n = node.size(); i < n; i++) {
                    element();
                    tree(node.get(i));
                }
                endArray();
            }
            case STRING -> string(node.textValue());
            case BOOLEAN -> bool(node.booleanValue());
            case NULL -> nullValue();
            case NUMBER -> number(node);
            case POJO -> rawValue(node);
            default -> throw NOT_DIRECT; // binary, missing: Jackson's
        }
    }

    /**
     * A JSON text placed in a tree as it is ({@code putRawValue}: a POJO node holding a {@link RawValue} of a
     * string), which Jackson's generators write verbatim: its byte generator as the text's UTF-8, its character
     * generator as the characters themselves (here their UTF-8, which decodes to them). A surrogate that is not
     * half of a pair (which Jackson's byte generator refuses and UTF-8 cannot hold) is Jackson's, as is every
     * other POJO node (any object).
     */
    private void rawValue(JsonNode node) throws NotDirect {
        if (node instanceof POJONode pojo
                && pojo.getPojo() instanceof RawValue raw
                && raw.rawValue() instanceof String text
                && !text.isEmpty()) {
            // Not ending in a brace or bracket, which would make the next separator wrong (no JSON value does;
            // Jackson writes any text it is given, and its separators from its own context).
            char last = text.charAt(text.length() - 1);
            if (last != '{' && last != '[') {
                byte[] latin1 = PlainText.latin1Bytes(text);
                if (latin1 == null) {
                    utf8(text);
                } else if (latin1Text) {
                    bytes(latin1); // Latin-1 text: the same characters
                } else {
                    latin1Utf8(latin1);
                }
                return;
            }
        }
        throw NOT_DIRECT;
    }

    /** Text held as Latin-1 as UTF-8, nothing escaped: ASCII eight bytes at a time, a byte above 0x7F as two. */
    private void latin1Utf8(byte[] text) {
        int n = text.length;
        ensure(2 * n);
        byte[] b = buf;
        int p = count;
        int i = 0;
        for (int words = n - 7; i < words; i += 8) {
            if (((long) LONGS.get(text, i) & 0x8080808080808080L) == 0) {
                PlainText.putLong(b, p, text, i);
                p += 8;
            } else {
                for (int j = i; j < i + 8; j++) {
                    p = latin1Utf8(text[j], b, p);
                }
            }
        }
        for (; i < n; i++) {
            p = latin1Utf8(text[i], b, p);
        }
        count = p;
    }

    private static int latin1Utf8(byte c, byte[] b, int p) {
        if (c >= 0) {
            b[p++] = c;
        } else {
            b[p++] = (byte) (0xC0 | ((c & 0xFF) >> 6));
            b[p++] = (byte) (0x80 | (c & 0x3F));
        }
        return p;
    }

    /** {@code text} as UTF-8, nothing escaped; a lone surrogate is {@link NotDirect}. */
    private void utf8(String text) throws NotDirect {
        if (latin1Text) {
            toUtf8();
        }
        int n = text.length();
        ensure(3 * n); // at most three bytes a character (a pair's four are two characters')
        byte[] b = buf;
        int p = count;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                b[p++] = (byte) c;
            } else if (!Character.isSurrogate(c)) {
                p = utf8(c, b, p);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                p = utf8Pair(Character.toCodePoint(c, text.charAt(++i)), b, p);
            } else {
                throw NOT_DIRECT;
            }
        }
        count = p;
    }

    /** Writes each field of an object; a value left to Jackson is noted and the rest of the walk skipped. */
    private final class Fields implements BiConsumer<String, JsonNode> {
        boolean notDirect;

        @Override
        public void accept(String name, JsonNode value) {
            if (notDirect) {
                return;
            }
            try {
                treeName(name);
                tree(value);
            } catch (NotDirect e) {
                notDirect = true;
            }
        }
    }

    private void number(JsonNode node) throws NotDirect {
        switch (node.numberType()) {
            case INT, LONG -> number(node.longValue());
            case BIG_INTEGER -> ascii(node.bigIntegerValue().toString());
            case BIG_DECIMAL -> decimal(node.decimalValue());
            case DOUBLE -> {
                double d = node.doubleValue();
                if (!Double.isFinite(d)) {
                    throw NOT_DIRECT; // Jackson quotes it
                }
                number(d);
            }
            case FLOAT -> {
                float f = node.floatValue();
                if (!Float.isFinite(f)) {
                    throw NOT_DIRECT;
                }
                ascii(NumberOutput.toString(f, false));
            }
            default -> throw NOT_DIRECT;
        }
    }
}
