package dev.forwarder.internal.spool;

import dev.forwarder.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;

/**
 * One record in the spool: a Chronicle Queue document with this layout (version 1, little-endian):
 *
 * <pre>
 *  offset  size  field
 *  ------  ----  -----------------------------------------------------------------
 *       0     1  layout version (1)
 *       1     1  data type (0 model_inference, 1 chat_inference, 2 json_inference)
 *       2     2  reserved (0)
 *       4     8  append time, epoch milliseconds
 *      12     4  key length k in bytes, or -1 for no key
 *      16     4  payload length p in bytes
 *      20     4  note length n in bytes (the dead-letter reason; 0 in the main spool)
 *      24     k  key, UTF-8
 *    24+k     p  payload: the record as one UTF-8 JSON object, exactly as it will be sent
 *  24+k+p     n  note, UTF-8
 *  28+k+p+n   -  (end)
 *  24+k+p+n   4  CRC-32C of bytes [0, 24+k+p+n)
 *
 *  +---------+------+------+-------------+-------+-------+-------+-----+---------+------+-------+
 *  | version | type | rsvd | append time | k     | p     | n     | key | payload | note | crc32c|
 *  +---------+------+------+-------------+-------+-------+-------+-----+---------+------+-------+
 * </pre>
 *
 * <p>The checksum covers everything before it, so a flipped byte anywhere, a torn tail or a document
 * of another layout is detected by {@link #decode} and reported as corrupt, never forwarded.
 * A reader that sees a version it does not know reports the record as corrupt instead of guessing.
 */
public final class SpoolRecord {

    public static final byte VERSION = 1;
    static final int HEADER_BYTES = 24;
    static final int TRAILER_BYTES = 4;
    private static final DataType[] TYPES = DataType.values();

    // Per thread: the header is assembled here so that the checksum can run over it without copying.
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SpoolRecord() {
    }

    /** The size a record takes in the spool, without Chronicle's own 4-byte document header. */
    public static int encodedSize(byte[] key, byte[] payload, byte[] note) {
        return HEADER_BYTES + (key == null ? 0 : key.length) + payload.length
                + (note == null ? 0 : note.length) + TRAILER_BYTES;
    }

    /** Writes one record at the write position of {@code out}. */
    public static void encode(Bytes<?> out, DataType type, long appendTimeMs, byte[] key, byte[] payload,
            byte[] note) {
        Scratch s = SCRATCH.get();
        ByteBuffer header = s.header.clear();
        header.put(VERSION).put((byte) type.ordinal()).putShort((short) 0).putLong(appendTimeMs)
                .putInt(key == null ? -1 : key.length).putInt(payload.length)
                .putInt(note == null ? 0 : note.length);
        CRC32C crc = s.crc;
        crc.reset();
        crc.update(s.headerBytes, 0, HEADER_BYTES);
        out.write(s.headerBytes, 0, HEADER_BYTES);
        if (key != null) {
            crc.update(key, 0, key.length);
            out.write(key);
        }
        crc.update(payload, 0, payload.length);
        out.write(payload);
        if (note != null) {
            crc.update(note, 0, note.length);
            out.write(note);
        }
        out.writeInt((int) crc.getValue());
    }

    /**
     * Reads the record at the read position of {@code in}, which holds exactly one document.
     *
     * @throws CorruptRecordException if the layout or the checksum is wrong
     */
    public static Entry decode(long index, Bytes<?> in) throws CorruptRecordException {
        long size = in.readRemaining();
        if (size < HEADER_BYTES + TRAILER_BYTES) {
            throw new CorruptRecordException("record of " + size + " bytes is shorter than the "
                    + (HEADER_BYTES + TRAILER_BYTES) + "-byte minimum");
        }
        Scratch s = SCRATCH.get();
        in.read(s.headerBytes, 0, HEADER_BYTES);
        ByteBuffer header = s.header.clear();
        byte version = header.get();
        int typeOrdinal = header.get();
        header.getShort();
        long appendTime = header.getLong();
        int keyLength = header.getInt();
        int payloadLength = header.getInt();
        int noteLength = header.getInt();
        if (version != VERSION) {
            throw new CorruptRecordException("unknown layout version " + version);
        }
        long expected = (long) HEADER_BYTES + Math.max(0, keyLength) + payloadLength + noteLength + TRAILER_BYTES;
        if (typeOrdinal < 0 || typeOrdinal >= TYPES.length || keyLength < -1 || payloadLength < 0
                || noteLength < 0 || expected != size) {
            throw new CorruptRecordException("inconsistent header (type " + typeOrdinal + ", key " + keyLength
                    + ", payload " + payloadLength + ", note " + noteLength + " bytes, record " + size + " bytes)");
        }
        CRC32C crc = s.crc;
        crc.reset();
        crc.update(s.headerBytes, 0, HEADER_BYTES);
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
        return new Entry(index, TYPES[typeOrdinal], appendTime, key, payload,
                noteLength == 0 ? null : new String(note, StandardCharsets.UTF_8));
    }

    /**
     * One decoded record.
     *
     * @param index        its position in the spool (Chronicle index)
     * @param keyBytes     the Kafka key, UTF-8, or null
     * @param payload      the JSON value, exactly as appended
     * @param note         the dead-letter reason, or null
     */
    public record Entry(long index, DataType type, long appendTimeMs, byte[] keyBytes, byte[] payload, String note) {
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

    private static final class Scratch {
        final byte[] headerBytes = new byte[HEADER_BYTES];
        final ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        final CRC32C crc = new CRC32C();
    }
}
