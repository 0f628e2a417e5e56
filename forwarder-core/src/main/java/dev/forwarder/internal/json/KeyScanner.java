package dev.forwarder.internal.json;

/**
 * Finds a record's Kafka key in its JSON without a parser and without allocating: a scan of the top-level
 * fields that answers with where the key's bytes are in the array.
 *
 * <p>It gives the same key as {@link MessageKeys#keyOf(byte[])} (Jackson) or says it cannot: the scan is
 * at least as strict as Jackson on everything it reads (strings, escapes, UTF-8, numbers, literals,
 * nesting, the object's punctuation), and whenever it meets something it does not handle itself (an escape
 * in a field name or in the key's value, deep nesting, a long number, another encoding, malformed JSON) it
 * answers {@link #ASK_JACKSON}, and the caller asks Jackson. Since both read the same prefix of the record
 * and stop at the same place (the first non-empty {@code id}, else the object's end), being stricter can only
 * send a record to Jackson, never yield another key.
 *
 * <p>The precedence is {@link MessageKeys#KEY_FIELDS}: the first non-empty string {@code id} ends the scan;
 * otherwise the first non-empty string of {@code inference_id}, {@code episode_id}, {@code target_id}, in
 * that order, wherever it appears; non-string values do not count.
 */
public final class KeyScanner {

    /** The record has none of the key fields as a non-empty string: no key. */
    public static final long NO_KEY = -1;
    /** The scan cannot answer; ask {@link MessageKeys#keyOf(byte[])}. */
    public static final long ASK_JACKSON = -2;

    private static final int MAX_DEPTH = 64;
    private static final int MAX_NUMBER_LENGTH = 100;

    private KeyScanner() {}

    /** Where the key's UTF-8 bytes start in the array, from a {@link #find} result. */
    public static int offset(long found) {
        return (int) (found >>> 32);
    }

    /** How many bytes the key has, from a {@link #find} result. */
    public static int length(long found) {
        return (int) found;
    }

    /**
     * @return {@code offset << 32 | length} of the key's bytes inside {@code json}, or {@link #NO_KEY}, or
     *         {@link #ASK_JACKSON}
     */
    public static long find(byte[] json) {
        try {
            return scan(json);
        } catch (Unsure e) {
            return ASK_JACKSON;
        }
    }

    // Every step below is a static method that takes the array and a position and returns the position after
    // what it read: no scanner object, so nothing is allocated whatever the JIT inlines.

    private static final int OTHER = 0;
    private static final int ID = 1;
    private static final int INFERENCE_ID = 2;
    private static final int EPISODE_ID = 3;
    private static final int TARGET_ID = 4;

    private static long scan(byte[] b) throws Unsure {
        if (b.length < 2 || b[0] == 0 || b[1] == 0) {
            throw Unsure.INSTANCE; // Jackson would guess UTF-16 or UTF-32 from zero bytes
        }
        int p = expect(b, skipWhitespace(b, 0), '{');
        // The first candidates for inference_id, episode_id, target_id: packed (offset, length).
        long inferenceId = NO_KEY;
        long episodeId = NO_KEY;
        long targetId = NO_KEY;
        p = skipWhitespace(b, p);
        if (peek(b, p) == '}') {
            return NO_KEY;
        }
        while (true) {
            p = expect(b, skipWhitespace(b, p), '"');
            int nameStart = p;
            p = skipStringBody(b, p, true);
            int field = field(b, nameStart, p - 1 - nameStart);
            p = skipWhitespace(b, expect(b, skipWhitespace(b, p), ':'));
            if (field != OTHER && peek(b, p) == '"') {
                int valueStart = p + 1;
                p = skipStringBody(b, valueStart, true);
                int length = p - 1 - valueStart;
                if (length > 0) {
                    long value = ((long) valueStart << 32) | length;
                    if (field == ID) {
                        return value;
                    } else if (field == INFERENCE_ID && inferenceId == NO_KEY) {
                        inferenceId = value;
                    } else if (field == EPISODE_ID && episodeId == NO_KEY) {
                        episodeId = value;
                    } else if (field == TARGET_ID && targetId == NO_KEY) {
                        targetId = value;
                    }
                }
            } else {
                p = skipValue(b, p, 1);
            }
            p = skipWhitespace(b, p);
            int c = at(b, p++);
            if (c == '}') {
                break;
            }
            if (c != ',') {
                throw Unsure.INSTANCE;
            }
        }
        return inferenceId != NO_KEY ? inferenceId : episodeId != NO_KEY ? episodeId : targetId;
    }

    private static int field(byte[] b, int start, int length) {
        if (matches(b, start, length, "id")) {
            return ID;
        }
        if (matches(b, start, length, "inference_id")) {
            return INFERENCE_ID;
        }
        if (matches(b, start, length, "episode_id")) {
            return EPISODE_ID;
        }
        if (matches(b, start, length, "target_id")) {
            return TARGET_ID;
        }
        return OTHER;
    }

    private static boolean matches(byte[] b, int start, int length, String name) {
        if (length != name.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (b[start + i] != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Moves past a string's body and its closing quote, checking it as Jackson would: no unescaped control
     * characters, valid escapes, well-formed UTF-8 (stricter: no overlong forms, no surrogates). With
     * {@code noEscapes}, any escape makes the scan unsure (a field name, or a key to copy as it is).
     */
    private static int skipStringBody(byte[] b, int p, boolean noEscapes) throws Unsure {
        while (true) {
            int c = at(b, p++);
            if (c == '"') {
                return p;
            }
            if (c < 0x20) {
                throw Unsure.INSTANCE;
            }
            if (c == '\\') {
                if (noEscapes) {
                    throw Unsure.INSTANCE;
                }
                int e = at(b, p++);
                if (e == 'u') {
                    for (int i = 0; i < 4; i++) {
                        if (Character.digit(at(b, p++), 16) < 0) {
                            throw Unsure.INSTANCE;
                        }
                    }
                } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r'
                        && e != 't') {
                    throw Unsure.INSTANCE;
                }
            } else if (c >= 0x80) {
                p = skipUtf8Continuation(b, p, c);
            }
        }
    }

    private static int skipUtf8Continuation(byte[] b, int p, int lead) throws Unsure {
        int extra;
        int min;
        if (lead >= 0xC2 && lead <= 0xDF) {
            extra = 1;
            min = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            extra = 2;
            min = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            extra = 3;
            min = 0x10000;
        } else {
            throw Unsure.INSTANCE;
        }
        int cp = lead & (0x3F >> extra);
        for (int i = 0; i < extra; i++) {
            int c = at(b, p++);
            if ((c & 0xC0) != 0x80) {
                throw Unsure.INSTANCE;
            }
            cp = (cp << 6) | (c & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw Unsure.INSTANCE;
        }
        return p;
    }

    /** Moves past one JSON value, checking its grammar. */
    private static int skipValue(byte[] b, int p, int depth) throws Unsure {
        if (depth > MAX_DEPTH) {
            throw Unsure.INSTANCE;
        }
        int c = peek(b, p);
        if (c == '"') {
            return skipStringBody(b, p + 1, false);
        }
        if (c == '{') {
            p = skipWhitespace(b, p + 1);
            if (peek(b, p) == '}') {
                return p + 1;
            }
            while (true) {
                p = skipStringBody(b, expect(b, skipWhitespace(b, p), '"'), false);
                p = skipWhitespace(b, expect(b, skipWhitespace(b, p), ':'));
                p = skipWhitespace(b, skipValue(b, p, depth + 1));
                int d = at(b, p++);
                if (d == '}') {
                    return p;
                }
                if (d != ',') {
                    throw Unsure.INSTANCE;
                }
            }
        }
        if (c == '[') {
            p = skipWhitespace(b, p + 1);
            if (peek(b, p) == ']') {
                return p + 1;
            }
            while (true) {
                p = skipWhitespace(b, skipValue(b, skipWhitespace(b, p), depth + 1));
                int d = at(b, p++);
                if (d == ']') {
                    return p;
                }
                if (d != ',') {
                    throw Unsure.INSTANCE;
                }
            }
        }
        if (c == 't') {
            return literal(b, p, "true");
        }
        if (c == 'f') {
            return literal(b, p, "false");
        }
        if (c == 'n') {
            return literal(b, p, "null");
        }
        if (c == '-' || isDigit(c)) {
            return number(b, p);
        }
        throw Unsure.INSTANCE;
    }

    private static int literal(byte[] b, int p, String word) throws Unsure {
        for (int i = 0; i < word.length(); i++) {
            if (at(b, p++) != word.charAt(i)) {
                throw Unsure.INSTANCE;
            }
        }
        return endOfToken(b, p);
    }

    /** JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    private static int number(byte[] b, int p) throws Unsure {
        int start = p;
        if (peek(b, p) == '-') {
            p++;
        }
        int first = at(b, p++);
        if (first == '0') {
            if (isDigit(peek(b, p))) {
                throw Unsure.INSTANCE; // a leading zero
            }
        } else if (first >= '1' && first <= '9') {
            p = digits(b, p, 0);
        } else {
            throw Unsure.INSTANCE;
        }
        if (peek(b, p) == '.') {
            p = digits(b, p + 1, 1);
        }
        if (peek(b, p) == 'e' || peek(b, p) == 'E') {
            p++;
            if (peek(b, p) == '+' || peek(b, p) == '-') {
                p++;
            }
            p = digits(b, p, 1);
        }
        if (p - start > MAX_NUMBER_LENGTH) {
            throw Unsure.INSTANCE;
        }
        return endOfToken(b, p);
    }

    private static int digits(byte[] b, int p, int atLeast) throws Unsure {
        int start = p;
        while (isDigit(peek(b, p))) {
            p++;
        }
        if (p - start < atLeast) {
            throw Unsure.INSTANCE;
        }
        return p;
    }

    /** After a number or a literal, only punctuation or whitespace may follow (as Jackson requires). */
    private static int endOfToken(byte[] b, int p) throws Unsure {
        int c = peek(b, p);
        if (!(c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            throw Unsure.INSTANCE;
        }
        return p;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static int skipWhitespace(byte[] b, int p) {
        while (p < b.length) {
            byte c = b[p];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return p;
            }
            p++;
        }
        return p;
    }

    private static int expect(byte[] b, int p, char c) throws Unsure {
        if (at(b, p) != c) {
            throw Unsure.INSTANCE;
        }
        return p + 1;
    }

    /** The byte at {@code p} (0..255); past the end: unsure. */
    private static int at(byte[] b, int p) throws Unsure {
        if (p >= b.length) {
            throw Unsure.INSTANCE;
        }
        return b[p] & 0xFF;
    }

    /** The byte at {@code p} (0..255); -1 past the end. */
    private static int peek(byte[] b, int p) {
        return p < b.length ? b[p] & 0xFF : -1;
    }

    /** The scan cannot answer; a preallocated signal without a stack trace (no allocation). */
    private static final class Unsure extends Exception {
        private static final long serialVersionUID = 1L;
        static final Unsure INSTANCE = new Unsure();

        private Unsure() {
            super("ask Jackson", null, false, false);
        }
    }
}
