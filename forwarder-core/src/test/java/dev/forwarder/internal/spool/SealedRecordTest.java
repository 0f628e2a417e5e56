package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32C;
import net.openhft.chronicle.bytes.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Version 2 records: payloads sealed with AES-GCM, opened only with their key, and damage still detected. */
class SealedRecordTest {

    static {
        Spool.quietChronicle();
    }

    private static final byte[] KEY = "0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11".getBytes(StandardCharsets.UTF_8);
    private static final String MARKER = "MARKER-the-user-said-something-private";
    private static final byte[] PAYLOAD = ("{\"id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\",\"input\":\"" + MARKER
                    + "\"}")
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    static String newKey() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    static Path keyFile(Path dir, String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    @Test
    void aSealedRecordHoldsNoPlaintextAndReadsBackWithItsKey() throws Exception {
        SpoolKeys keys = SpoolKeys.load(keyFile(dir, "k", newKey()));
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(
                bytes, DataType.CHAT_INFERENCE, 42L, KEY, PAYLOAD, "why".getBytes(StandardCharsets.UTF_8), keys);
        assertEquals(SpoolRecord.encodedSize(KEY, PAYLOAD, new byte[3], keys), bytes.readRemaining());
        byte[] stored = bytes.toByteArray();
        assertFalse(new String(stored, StandardCharsets.ISO_8859_1).contains("MARKER"), "plaintext in the record");
        assertEquals(keys.activeId(), SpoolRecord.sealingKey(bytes));

        SpoolRecord.Entry e = SpoolRecord.decode(7, bytes, keys);
        assertArrayEquals(PAYLOAD, e.payload());
        assertEquals(DataType.CHAT_INFERENCE, e.type());
        assertEquals(42L, e.appendTimeMs());
        assertEquals(new String(KEY, StandardCharsets.UTF_8), e.key());
        assertEquals("why", e.note());
    }

    /** The payload may be the first bytes of a longer buffer (a typed publish's kept one), sealed or not. */
    @Test
    void onlyThePayloadsLengthOfItsBufferIsStored() throws Exception {
        SpoolKeys keys = SpoolKeys.load(keyFile(dir, "k", newKey()));
        byte[] buffer = Arrays.copyOf(PAYLOAD, PAYLOAD.length + 100);
        Arrays.fill(buffer, PAYLOAD.length, buffer.length, (byte) 'Z');
        for (SpoolKeys sealing : new SpoolKeys[] {null, keys}) {
            Bytes<?> bytes = Bytes.allocateElasticOnHeap();
            new SpoolRecord.Writer()
                    .encode(
                            bytes,
                            DataType.CHAT_INFERENCE,
                            1L,
                            KEY,
                            0,
                            KEY.length,
                            buffer,
                            PAYLOAD.length,
                            null,
                            (short) 0,
                            sealing);
            assertEquals(SpoolRecord.encodedSize(KEY, PAYLOAD, null, sealing), bytes.readRemaining());
            assertArrayEquals(PAYLOAD, SpoolRecord.decode(1, bytes, sealing).payload(), "sealed: " + (sealing != null));
        }
    }

    @Test
    void withoutItsKeyARecordIsUnreadableNotCorrupt() throws Exception {
        SpoolKeys a = SpoolKeys.load(keyFile(dir, "a", newKey()));
        SpoolKeys b = SpoolKeys.load(keyFile(dir, "b", newKey()));
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(bytes, DataType.JSON_INFERENCE, 1, KEY, PAYLOAD, null, a);
        byte[] stored = bytes.toByteArray();

        SpoolRecord.UnknownKeyException wrong = assertThrows(
                SpoolRecord.UnknownKeyException.class, () -> SpoolRecord.decode(1, Bytes.wrapForRead(stored), b));
        assertEquals(a.activeId(), wrong.keyId());
        assertTrue(wrong.getMessage().contains(SpoolKeys.name(a.activeId())), wrong.getMessage());
        assertTrue(wrong.getMessage().contains(b.file().toString()), wrong.getMessage());
        SpoolRecord.UnknownKeyException none = assertThrows(
                SpoolRecord.UnknownKeyException.class, () -> SpoolRecord.decode(1, Bytes.wrapForRead(stored), null));
        assertTrue(none.getMessage().contains("key_file is not set"), none.getMessage());
    }

    @Test
    void everyFlippedByteIsDetectedByTheChecksumAndTamperingBehindItByTheTag() throws Exception {
        SpoolKeys keys = SpoolKeys.load(keyFile(dir, "k", newKey()));
        Bytes<?> original = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(original, DataType.MODEL_INFERENCE, 99, KEY, PAYLOAD, null, keys);
        byte[] good = original.toByteArray();
        int keyIdAt = SpoolRecord.HEADER_BYTES;
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            int at = i;
            assertThrows(
                    SpoolRecord.CorruptRecordException.class,
                    () -> SpoolRecord.decode(1, Bytes.wrapForRead(bad), keys),
                    "flip at byte " + at + " not detected");
            if ((i >= keyIdAt && i < keyIdAt + SpoolKeys.KEY_ID_BYTES) || i >= good.length - 4) {
                continue; // with a matching checksum, another key id is (rightly) an unknown key; or the checksum
            }
            // The same flip with the checksum made to match (deliberate tampering): the GCM tag catches it.
            fixChecksum(bad);
            assertThrows(
                    SpoolRecord.CorruptRecordException.class,
                    () -> SpoolRecord.decode(1, Bytes.wrapForRead(bad), keys),
                    "tampering at byte " + at + " not detected");
        }
    }

    @Test
    void noncesDoNotRepeat() throws Exception {
        SpoolKeys keys = SpoolKeys.load(keyFile(dir, "k", newKey()));
        Set<ByteBuffer> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            byte[] nonce = new byte[SpoolKeys.NONCE_BYTES];
            keys.nextNonce(nonce, 0);
            assertTrue(seen.add(ByteBuffer.wrap(nonce)), "nonce repeated at " + i);
        }
        byte[] one = new byte[SpoolKeys.NONCE_BYTES];
        byte[] other = new byte[SpoolKeys.NONCE_BYTES];
        keys.nextNonce(one, 0);
        SpoolKeys.load(keys.file()).nextNonce(other, 0);
        assertNotEquals(ByteBuffer.wrap(one), ByteBuffer.wrap(other), "two loads start from the same nonce");
    }

    @Test
    void aRotatedFileSealsWithItsFirstKeyAndOpensWithAll() throws Exception {
        String old = newKey();
        String fresh = newKey();
        SpoolKeys before = SpoolKeys.load(keyFile(dir, "before", old));
        SpoolKeys after = SpoolKeys.load(keyFile(dir, "after", "# rotated", fresh, "", old));
        assertNotEquals(before.activeId(), after.activeId());
        assertTrue(after.holds(before.activeId()));
        Bytes<?> sealedBefore = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(sealedBefore, DataType.JSON_INFERENCE, 1, KEY, PAYLOAD, null, before);
        assertArrayEquals(PAYLOAD, SpoolRecord.decode(1, sealedBefore, after).payload());
        Bytes<?> sealedAfter = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(sealedAfter, DataType.JSON_INFERENCE, 1, KEY, PAYLOAD, null, after);
        assertEquals(after.activeId(), SpoolRecord.sealingKey(sealedAfter));
    }

    @Test
    void aBadKeyFileIsRefusedNamingTheFileAndNeverItsContent() throws Exception {
        String secret = newKey();
        Path open = keyFile(dir, "open", secret);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        IOException wide = assertThrows(IOException.class, () -> SpoolKeys.load(open));
        assertTrue(
                wide.getMessage().contains(open.toString())
                        && wide.getMessage().contains("rw-r--r--")
                        && wide.getMessage().contains("chmod 600"),
                wide.getMessage());

        IOException notBase64 =
                assertThrows(IOException.class, () -> SpoolKeys.load(keyFile(dir, "junk", "# c", "not a key!")));
        assertTrue(
                notBase64.getMessage().contains("line 2")
                        && notBase64.getMessage().contains("Base64"),
                notBase64.getMessage());
        IOException shortKey = assertThrows(
                IOException.class,
                () -> SpoolKeys.load(keyFile(dir, "short", Base64.getEncoder().encodeToString(new byte[10]))));
        assertTrue(shortKey.getMessage().contains("10 bytes"), shortKey.getMessage());
        IOException empty = assertThrows(IOException.class, () -> SpoolKeys.load(keyFile(dir, "empty", "# nothing")));
        assertTrue(empty.getMessage().contains("holds no key"), empty.getMessage());
        IOException missing = assertThrows(IOException.class, () -> SpoolKeys.load(dir.resolve("absent")));
        assertTrue(missing.getMessage().contains("not a readable file"), missing.getMessage());
        for (IOException e : new IOException[] {wide, notBase64, shortKey, empty, missing}) {
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
        assertFalse(SpoolKeys.load(keyFile(dir, "fine", secret)).toString().contains(secret));
    }

    private static void fixChecksum(byte[] record) {
        CRC32C crc = new CRC32C();
        crc.update(record, 0, record.length - 4);
        ByteBuffer.wrap(record, record.length - 4, 4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) crc.getValue());
    }
}
