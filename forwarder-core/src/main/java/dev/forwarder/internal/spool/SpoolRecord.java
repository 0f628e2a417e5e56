package dev.forwarder.internal.spool;

import dev.forwarder.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import javax.crypto.Cipher;
import net.openhft.chronicle.bytes.Bytes;

/**
 * One record in the spool: a Chronicle Queue document with this layout (version 1, little-endian):
 *
 * <pre>
 *  offset  size  field
 *  ------  ----  -----------------------------------------------------------------
 *       0     1  layout version (1)
 *       1     1  data type (0 model_inference, 1 chat_inference, 2 json_inference)
 *       2     2  flags: bit 0 (TRACED) = the note holds the W3C trace context of the publishing thread,
 *                "traceparent\ntracestate" (US-ASCII); other bits 0. A reader from before the flags (it skipped
 *                these bytes as reserved) forwards such a record without the trace.
 *       4     8  append time, epoch milliseconds
 *      12     4  key length k in bytes, or -1 for no key
 *      16     4  payload length p in bytes
 *      20     4  note length n in bytes (the dead-letter reason; 0 in the main spool)
 *      24     k  key, UTF-8
 *    24+k     p  payload: the record as one UTF-8 JSON object, exactly as it will be sent
 *  24+k+p     n  note, UTF-8
 *  24+k+p+n   4  CRC-32C of bytes [0, 24+k+p+n)
 *  28+k+p+n   -  (end)
 *
 *  +---------+------+------+-------------+-------+-------+-------+-----+---------+------+-------+
 *  | version | type | flgs | append time | k     | p     | n     | key | payload | note | crc32c|
 *  +---------+------+------+-------------+-------+-------+-------+-----+---------+------+-------+
 * </pre>
 *
 * <p>The checksum covers everything before it, so a flipped byte anywhere, a torn tail or a document
 * of another layout is detected by {@link #decode} and reported as corrupt, never forwarded.
 * A reader that sees a version it does not know reports the record as corrupt instead of guessing.
 *
 * <p><b>Version 2, sealed</b> ({@code spool.encryption}): the same fields, with the header followed by the
 * id of the key that sealed the payload and the AES-GCM nonce, and the payload sealed (its 16-byte tag
 * appended, so p is the plain length + 16). The tag authenticates the whole header (with key id and nonce)
 * and the Kafka key as well; the checksum still covers everything and is checked first, so damage reads as corrupt
 * whether or not the key is at hand.
 *
 * <pre>
 *       0    24  as version 1, with version 2 and p = sealed payload length
 *      24     4  key id (first 4 bytes of the key's SHA-256), big-endian
 *      28    12  nonce
 *      40     k  key, UTF-8
 *    40+k     p  payload sealed with AES-GCM (ciphertext, then 16-byte tag)
 *  40+k+p     n  note, UTF-8
 *  40+k+p+n   4  CRC-32C of bytes [0, 40+k+p+n)
 * </pre>
 */
public final class SpoolRecord {

    public static final byte VERSION = 1;
    public static final byte SEALED_VERSION = 2;
    /** Flag: the note holds the W3C trace context ("traceparent\ntracestate"), not a dead-letter reason. */
    public static final short TRACED = 1;

    static final int HEADER_BYTES = 24;
    static final int SEALED_HEADER_BYTES = HEADER_BYTES + SpoolKeys.KEY_ID_BYTES + SpoolKeys.NONCE_BYTES;

    /** The append time of the record at the bytes' read position, read from its header; -1 if too short. */
    static long appendTimeOf(Bytes<?> bytes) {
        return bytes.readRemaining() >= 12 ? bytes.readLong(bytes.readPosition() + 4) : -1;
    }
    /** What sealing adds to a record: the key id, the nonce and the tag. */
    public static final int SEALING_OVERHEAD = SEALED_HEADER_BYTES - HEADER_BYTES + SpoolKeys.TAG_BYTES;

    static final int TRAILER_BYTES = 4;
    private static final DataType[] TYPES = DataType.values();

    private SpoolRecord() {}

    /** The size a record takes in the spool, without Chronicle's own 4-byte document header. */
    public static int encodedSize(byte[] key, byte[] payload, byte[] note) {
        return encodedSize(key == null ? -1 : key.length, payload.length, note == null ? 0 : note.length, false);
    }

    /** The size a record takes in the spool, sealed ({@code keys} set) or not. */
    public static int encodedSize(byte[] key, byte[] payload, byte[] note, SpoolKeys keys) {
        return encodedSize(key == null ? -1 : key.length, payload.length, note == null ? 0 : note.length, keys != null);
    }

    /** The same from lengths: {@code keyLength} -1 for no key. */
    public static int encodedSize(int keyLength, int payloadLength, int noteLength, boolean sealed) {
        return HEADER_BYTES
                + Math.max(0, keyLength)
                + payloadLength
                + noteLength
                + TRAILER_BYTES
                + (sealed ? SEALING_OVERHEAD : 0);
    }

    /** Writes one record at the write position of {@code out} (with a writer of its own: for tests and tools). */
    public static void encode(Bytes<?> out, DataType type, long appendTimeMs, byte[] key, byte[] payload, byte[] note) {
        encode(out, type, appendTimeMs, key, payload, note, null);
    }

    /** As above, its payload sealed if {@code keys} is set. */
    public static void encode(
            Bytes<?> out, DataType type, long appendTimeMs, byte[] key, byte[] payload, byte[] note, SpoolKeys keys) {
        new Writer()
                .encode(
                        out,
                        type,
                        appendTimeMs,
                        key,
                        0,
                        key == null ? -1 : key.length,
                        payload,
                        payload.length,
                        note,
                        (short) 0,
                        keys);
    }

    /**
     * What encoding needs besides the record: the header under assembly (so the checksum runs over it without
     * copying), the checksum, and for sealing a buffer and a cipher. Reused record after record without
     * allocating; not thread-safe (a {@link Spool} keeps one under its append lock).
     */
    public static final class Writer {
        /** Sealed payloads up to this size reuse one buffer; larger ones get their own. */
        private static final int KEEP = 64 * 1024;

        private final byte[] headerBytes = new byte[SEALED_HEADER_BYTES];
        private final ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();
        private byte[] sealed = new byte[0];
        private Cipher cipher;

        /**
         * Writes one record at the write position of {@code out}: its key is {@code keyLength} bytes of
         * {@code keySource} from {@code keyOffset} (-1: no key), its payload the first {@code payloadLength} bytes
         * of {@code payload}, sealed if {@code keys} is set;
         * {@code flags} says what the note holds ({@link #TRACED}, or 0: a dead-letter reason or nothing).
         */
        public void encode(
                Bytes<?> out,
                DataType type,
                long appendTimeMs,
                byte[] keySource,
                int keyOffset,
                int keyLength,
                byte[] payload,
                int payloadLength,
                byte[] note,
                short flags,
                SpoolKeys keys) {
            int headerLength = keys == null ? HEADER_BYTES : SEALED_HEADER_BYTES;
            int payloadBytes = keys == null ? payloadLength : payloadLength + SpoolKeys.TAG_BYTES;
            ByteBuffer h = header.clear();
            h.put(keys == null ? VERSION : SEALED_VERSION)
                    .put((byte) type.ordinal())
                    .putShort(flags)
                    .putLong(appendTimeMs)
                    .putInt(keyLength < 0 ? -1 : keyLength)
                    .putInt(payloadBytes)
                    .putInt(note == null ? 0 : note.length);
            byte[] body = payload;
            if (keys != null) {
                h.order(ByteOrder.BIG_ENDIAN).putInt(keys.activeId()).order(ByteOrder.LITTLE_ENDIAN);
                keys.nextNonce(headerBytes, HEADER_BYTES + SpoolKeys.KEY_ID_BYTES);
                body = sealedBuffer(payloadBytes);
                if (cipher == null) {
                    cipher = SpoolKeys.newCipher();
                }
                keys.seal(
                        cipher,
                        headerBytes,
                        HEADER_BYTES + SpoolKeys.KEY_ID_BYTES,
                        headerBytes,
                        SEALED_HEADER_BYTES,
                        keySource,
                        keyOffset,
                        keyLength,
                        payload,
                        payloadLength,
                        body);
            }
            crc.reset();
            crc.update(headerBytes, 0, headerLength);
            out.write(headerBytes, 0, headerLength);
            if (keyLength >= 0) {
                crc.update(keySource, keyOffset, keyLength);
                out.write(keySource, keyOffset, keyLength);
            }
            crc.update(body, 0, payloadBytes);
            out.write(body, 0, payloadBytes);
            if (note != null) {
                crc.update(note, 0, note.length);
                out.write(note);
            }
            out.writeInt((int) crc.getValue());
        }

        private byte[] sealedBuffer(int length) {
            if (length > KEEP) {
                return new byte[length];
            }
            if (sealed.length < length) {
                sealed = new byte[Math.max(length, Math.min(KEEP, sealed.length * 2))];
            }
            return sealed;
        }
    }

    /**
     * The id of the key that sealed the record at the read position of {@code in} (read without moving it),
     * or {@link #NOT_SEALED} for a plain record or one too short to say.
     */
    public static long sealingKey(Bytes<?> in) {
        long at = in.readPosition();
        if (in.readRemaining() < SEALED_HEADER_BYTES || in.readByte(at) != SEALED_VERSION) {
            return NOT_SEALED;
        }
        int b0 = in.readUnsignedByte(at + HEADER_BYTES);
        int b1 = in.readUnsignedByte(at + HEADER_BYTES + 1);
        int b2 = in.readUnsignedByte(at + HEADER_BYTES + 2);
        int b3 = in.readUnsignedByte(at + HEADER_BYTES + 3);
        return (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
    }

    /** {@link #sealingKey}: the record is not sealed. */
    public static final long NOT_SEALED = Long.MIN_VALUE;

    /**
     * Reads the record at the read position of {@code in}, which holds exactly one document.
     *
     * @throws CorruptRecordException if the layout or the checksum is wrong
     */
    public static Entry decode(long index, Bytes<?> in) throws CorruptRecordException {
        try {
            return decode(index, in, null);
        } catch (UnknownKeyException e) {
            throw new CorruptRecordException(e.getMessage());
        }
    }

    /**
     * Reads the record at the read position of {@code in}, which holds exactly one document, opening a
     * sealed payload with {@code keys}.
     *
     * @throws CorruptRecordException if the layout, the checksum or a sealed payload's tag is wrong
     * @throws UnknownKeyException    if the record is sealed with a key {@code keys} does not hold (or there
     *                                are none); the record itself is intact
     */
    public static Entry decode(long index, Bytes<?> in, SpoolKeys keys)
            throws CorruptRecordException, UnknownKeyException {
        long size = in.readRemaining();
        if (size < HEADER_BYTES + TRAILER_BYTES) {
            throw new CorruptRecordException("record of " + size + " bytes is shorter than the "
                    + (HEADER_BYTES + TRAILER_BYTES) + "-byte minimum");
        }
        byte[] headerBytes = new byte[SEALED_HEADER_BYTES];
        in.read(headerBytes, 0, HEADER_BYTES);
        ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        byte version = header.get();
        int typeOrdinal = header.get();
        short flags = header.getShort();
        long appendTime = header.getLong();
        int keyLength = header.getInt();
        int payloadLength = header.getInt();
        int noteLength = header.getInt();
        if (version != VERSION && version != SEALED_VERSION) {
            throw new CorruptRecordException("unknown layout version " + version);
        }
        boolean sealed = version == SEALED_VERSION;
        int headerLength = sealed ? SEALED_HEADER_BYTES : HEADER_BYTES;
        long expected = (long) headerLength + Math.max(0, keyLength) + payloadLength + noteLength + TRAILER_BYTES;
        if (typeOrdinal < 0
                || typeOrdinal >= TYPES.length
                || keyLength < -1
                || payloadLength < 0
                || noteLength < 0
                || expected != size
                || (sealed && payloadLength < SpoolKeys.TAG_BYTES)) {
            throw new CorruptRecordException("inconsistent header (type " + typeOrdinal + ", key " + keyLength
                    + ", payload " + payloadLength + ", note " + noteLength + " bytes, record " + size + " bytes)");
        }
        if (sealed) {
            in.read(headerBytes, HEADER_BYTES, SEALED_HEADER_BYTES - HEADER_BYTES);
        }
        CRC32C crc = new CRC32C();
        crc.update(headerBytes, 0, headerLength);
        byte[] key = null;
        if (keyLength >= 0) {
            key = new byte[keyLength];
            in.read(key);
            crc.update(key, 0, keyLength);
        }
        byte[] payload = new byte[payloadLength];
        in.read(payload);
        crc.update(payload, 0, payloadLength);
        byte[] note = new byte[noteLength];
        in.read(note);
        crc.update(note, 0, noteLength);
        int stored = in.readInt();
        if (stored != (int) crc.getValue()) {
            throw new CorruptRecordException("checksum mismatch");
        }
        if (sealed) {
            int keyId = ByteBuffer.wrap(headerBytes, HEADER_BYTES, SpoolKeys.KEY_ID_BYTES)
                    .getInt();
            if (keys == null || !keys.holds(keyId)) {
                throw new UnknownKeyException(keyId, keys);
            }
            payload = keys.open(
                    keyId,
                    headerBytes,
                    HEADER_BYTES + SpoolKeys.KEY_ID_BYTES,
                    headerBytes,
                    SEALED_HEADER_BYTES,
                    key,
                    payload);
        }
        boolean traced = (flags & TRACED) != 0 && noteLength > 0;
        String noteText = noteLength == 0 ? null : new String(note, StandardCharsets.UTF_8);
        return new Entry(
                index,
                TYPES[typeOrdinal],
                appendTime,
                key,
                payload,
                traced ? null : noteText,
                traced ? noteText : null);
    }

    /**
     * One decoded record.
     *
     * @param index        its position in the spool (Chronicle index)
     * @param keyBytes     the Kafka key, UTF-8, or null
     * @param payload      the JSON value, exactly as appended
     * @param note         the dead-letter reason, or null
     * @param trace        the publishing thread's W3C trace context, "traceparent\ntracestate", or null
     */
    public record Entry(
            long index, DataType type, long appendTimeMs, byte[] keyBytes, byte[] payload, String note, String trace) {

        /** A record without a trace context. */
        public Entry(long index, DataType type, long appendTimeMs, byte[] keyBytes, byte[] payload, String note) {
            this(index, type, appendTimeMs, keyBytes, payload, note, null);
        }

        /** The Kafka key as text, or null. */
        public String key() {
            return keyBytes == null ? null : new String(keyBytes, StandardCharsets.UTF_8);
        }
    }

    /** A record that failed its checks; the message says which. */
    public static final class CorruptRecordException extends Exception {
        private static final long serialVersionUID = 1L;

        public CorruptRecordException(String message) {
            super(message);
        }
    }

    /**
     * A sealed record whose key is not at hand: intact, but unreadable here. Never a reason to skip or
     * delete it; the message names the key id and the key file.
     */
    public static final class UnknownKeyException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int keyId;

        UnknownKeyException(int keyId, SpoolKeys keys) {
            super(
                    keys == null
                            ? "record sealed with key " + SpoolKeys.name(keyId)
                                    + ", but spool.encryption.key_file is not set"
                            : "record sealed with key " + SpoolKeys.name(keyId) + ", which " + keys.file()
                                    + " does not hold (it holds " + keys.names() + ")");
            this.keyId = keyId;
        }

        public int keyId() {
            return keyId;
        }
    }
}
