package dev.forwarder.internal.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Long ASCII text written as Jackson writes it, without Jackson's check of each character against its escape
 * table (where two thirds of a record's serialisation went, by profile). A string of at least
 * {@link #FAST_LENGTH} characters that the JVM holds as Latin-1 is read from its own bytes, eight at a time:
 * {@link #PLAIN} text (no control character, quote, backslash or byte above 0x7F) is exactly its bytes between
 * quotes in Jackson's output; {@link #QUOTED} text (JSON held as text: quotes and backslashes, nothing else to
 * escape) is its bytes with a backslash before each quote and backslash, as Jackson escapes them. Every other
 * string is Jackson's to write. The generators here wrap the mapper's own; JSON trees reach them too, since
 * their text nodes write themselves through the generator they are given. {@code RecordWriterTest} and
 * {@code JsonTextsTest} hold the output equal to Jackson's.
 */
final class PlainText {

    static final int FAST_LENGTH = 16;
    /** The text needs no escape. */
    static final int PLAIN = 0;
    /** The text's only escapes are of quotes and backslashes. */
    static final int QUOTED = 1;
    /** Anything else: a control character, or a byte above 0x7F. */
    static final int OTHER = 2;

    /** Scratch buffers larger than this are let go when a writer is returned to its pool. */
    static final int KEEP = 1 << 20;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH = 0x8080808080808080L;
    private static final long QUOTES = '"' * ONES;
    private static final long BACKSLASHES = '\\' * ONES;

    /**
     * A string's own fields, {@code value} (its bytes) and {@code coder} (0: Latin-1), read through var handles:
     * they need {@code --add-opens java.base/java.lang}, which Chronicle Queue needs anyway (set in the build and
     * the jar's manifest); without it both are null and every string is Jackson's. (Chronicle Core's
     * {@code StringUtils} reads the same fields by reflection: a third of a record's serialisation, by profile.)
     */
    private static final VarHandle STRING_VALUE;

    private static final VarHandle STRING_CODER;

    static {
        VarHandle value = null;
        VarHandle coder = null;
        try {
            MethodHandles.Lookup strings = MethodHandles.privateLookupIn(String.class, MethodHandles.lookup());
            value = strings.findVarHandle(String.class, "value", byte[].class);
            coder = strings.findVarHandle(String.class, "coder", byte.class);
            String probe = "plain text probe";
            if ((byte) coder.get(probe) != 0 || ((byte[]) value.get(probe)).length != probe.length()) {
                value = null; // not a JVM that holds such text as Latin-1 (compact strings off)
                coder = null;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            value = null;
            coder = null;
        }
        STRING_VALUE = value;
        STRING_CODER = coder;
    }

    private PlainText() {}

    /** The string's own Latin-1 bytes (not a copy) if it is long enough to be worth it and held so; else null. */
    static byte[] latin1(String text) {
        return text == null || text.length() < FAST_LENGTH ? null : latin1Bytes(text);
    }

    /** The string's own Latin-1 bytes (not a copy) if the JVM holds it so, whatever its length; else null. */
    static byte[] latin1Bytes(String text) {
        if (STRING_CODER == null || (byte) STRING_CODER.get(text) != 0) {
            return null;
        }
        byte[] bytes = (byte[]) STRING_VALUE.get(text);
        return bytes.length == text.length() ? bytes : null;
    }

    /** {@link #PLAIN}, {@link #QUOTED} or {@link #OTHER}: what writing {@code b} as a JSON string takes. */
    static int classify(byte[] b) {
        long quoted = 0;
        int i = 0;
        for (int n = b.length - 7; i < n; i += 8) {
            long x = (long) LONGS.get(b, i);
            // Eight bytes a test: a byte of 0x80 or more (then the next test is exact), a byte below 0x20; each
            // sets the high bit of some byte.
            if (((x | ((x - 0x20 * ONES) & ~x)) & HIGH) != 0) {
                return OTHER;
            }
            quoted |= specials(x);
        }
        boolean anyQuoted = (quoted & HIGH) != 0;
        for (; i < b.length; i++) {
            int c = b[i];
            if (c < 0x20) { // bytes above 0x7F are negative
                return OTHER;
            }
            anyQuoted |= c == '"' || c == '\\';
        }
        return anyQuoted ? QUOTED : PLAIN;
    }

    /**
     * Whether any of the eight bytes at {@code i} of {@code b} needs more than a copy as JSON text: a byte below
     * 0x20 or above 0x7F, a quote or a backslash. Exact: a byte above 0x7F sets its own high bit; below the first
     * of the others nothing borrows, so its own subtraction sets its high bit; without any, no term sets one.
     */
    static boolean mayNeedEscape(byte[] b, int i) {
        long x = (long) LONGS.get(b, i);
        return ((x | (x - 0x20 * ONES) | ((x ^ QUOTES) - ONES) | ((x ^ BACKSLASHES) - ONES)) & HIGH) != 0;
    }

    /** The eight bytes at {@code i} of {@code from} into {@code out} at {@code at}. */
    static void putLong(byte[] out, int at, byte[] from, int i) {
        LONGS.set(out, at, (long) LONGS.get(from, i));
    }

    /** The high bit set in some byte if {@code x} holds a quote or a backslash (and only then). */
    private static long specials(long x) {
        return zeroBytes(x ^ QUOTES) | zeroBytes(x ^ BACKSLASHES);
    }

    /** The high bit set in some byte if {@code x} has a zero byte (and only then, as to whether any is set). */
    private static long zeroBytes(long x) {
        return (x - ONES) & ~x;
    }

    /**
     * {@code text} (QUOTED) into {@code out} from {@code at}, a backslash before each quote and backslash, eight
     * bytes at a time where none is; returns the end. {@code out} has room for twice the text after {@code at}.
     */
    static int escape(byte[] text, byte[] out, int at) {
        int p = at;
        int i = 0;
        for (int n = text.length - 7; i < n; i += 8) {
            long x = (long) LONGS.get(text, i);
            if ((specials(x) & HIGH) == 0) {
                LONGS.set(out, p, x);
                p += 8;
            } else {
                p = escapeBytes(text, i, i + 8, out, p);
            }
        }
        return escapeBytes(text, i, text.length, out, p);
    }

    private static int escapeBytes(byte[] text, int from, int to, byte[] out, int p) {
        for (int i = from; i < to; i++) {
            byte b = text[i];
            if (b == '"' || b == '\\') {
                out[p++] = '\\';
            }
            out[p++] = b;
        }
        return p;
    }

    /** The generators below: Jackson's, and a buffer kept for escaped text. */
    abstract static class FastGenerator extends JsonGeneratorDelegate {
        private byte[] escaped = new byte[0];

        FastGenerator(JsonGenerator jackson) {
            super(jackson, false);
        }

        /** {@code latin1} (QUOTED) escaped into {@link #escaped()}; returns the length. */
        final int escapeKept(byte[] latin1) {
            if (escaped.length < 2 * latin1.length) {
                escaped = new byte[2 * latin1.length];
            }
            return escape(latin1, escaped, 0);
        }

        final byte[] escaped() {
            return escaped;
        }

        /** Lets a buffer grown for one large string go, so that a pooled writer does not keep it. */
        void trim() {
            if (escaped.length > KEEP) {
                escaped = new byte[0];
            }
        }
    }

    /** A byte generator ({@code RecordWriter}'s): text written with {@code writeRawUTF8String}. */
    static final class ByteGenerator extends FastGenerator {

        ByteGenerator(JsonGenerator jackson) {
            super(jackson);
        }

        @Override
        public void writeString(String text) throws IOException {
            byte[] latin1 = latin1(text);
            int kind = latin1 == null ? OTHER : classify(latin1);
            if (kind == PLAIN) {
                delegate.writeRawUTF8String(latin1, 0, latin1.length);
            } else if (kind == QUOTED) {
                int length = escapeKept(latin1);
                delegate.writeRawUTF8String(escaped(), 0, length);
            } else {
                delegate.writeString(text);
            }
        }
    }

    /**
     * A character generator ({@code JsonTexts}'): text written, quotes included, with {@code writeRawValue}, which
     * places the separators as {@code writeString} does.
     */
    static final class CharGenerator extends FastGenerator {
        private char[] chars = new char[0];

        CharGenerator(JsonGenerator jackson) {
            super(jackson);
        }

        @Override
        public void writeString(String text) throws IOException {
            byte[] latin1 = latin1(text);
            int kind = latin1 == null ? OTHER : classify(latin1);
            if (kind == OTHER) {
                delegate.writeString(text);
                return;
            }
            int length;
            if (kind == PLAIN) {
                length = latin1.length;
                room(length);
                text.getChars(0, length, chars, 1);
            } else {
                length = escapeKept(latin1);
                room(length);
                byte[] escaped = escaped();
                for (int i = 0; i < length; i++) {
                    chars[i + 1] = (char) escaped[i];
                }
            }
            chars[0] = '"';
            chars[length + 1] = '"';
            delegate.writeRawValue(chars, 0, length + 2);
        }

        private void room(int length) {
            if (chars.length < length + 2) {
                chars = new char[Math.max(length + 2, 2 * chars.length)];
            }
        }

        @Override
        void trim() {
            super.trim();
            if (chars.length > KEEP) {
                chars = new char[0];
            }
        }
    }
}
