package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.openhft.chronicle.bytes.Bytes;
import org.junit.jupiter.api.Test;

/** The spool record layout: what is written reads back, and any damage is detected. */
class SpoolRecordTest {

    static {
        Spool.quietChronicle();
    }

    private static final byte[] KEY = "0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD =
            "{\"id\":\"0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void roundTrip() throws Exception {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(
                bytes, DataType.JSON_INFERENCE, 1234567L, KEY, PAYLOAD, "why".getBytes(StandardCharsets.UTF_8));
        assertEquals(SpoolRecord.encodedSize(KEY, PAYLOAD, new byte[3]), bytes.readRemaining());
        SpoolRecord.Entry e = SpoolRecord.decode(77, bytes);
        assertEquals(77, e.index());
        assertEquals(DataType.JSON_INFERENCE, e.type());
        assertEquals(1234567L, e.appendTimeMs());
        assertEquals(new String(KEY, StandardCharsets.UTF_8), e.key());
        assertArrayEquals(PAYLOAD, e.payload());
        assertEquals("why", e.note());
    }

    /** A traced record's note is its trace context, told apart from a dead-letter reason by the flag. */
    @Test
    void aTracedRecordCarriesItsTraceContextAndNoNote() throws Exception {
        String trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nvendor=v1";
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        new SpoolRecord.Writer()
                .encode(
                        bytes,
                        DataType.CHAT_INFERENCE,
                        5L,
                        KEY,
                        0,
                        KEY.length,
                        PAYLOAD,
                        PAYLOAD.length,
                        trace.getBytes(StandardCharsets.US_ASCII),
                        SpoolRecord.TRACED,
                        null);
        SpoolRecord.Entry e = SpoolRecord.decode(3, bytes);
        assertEquals(trace, e.trace());
        assertNull(e.note(), "not a dead-letter reason");
        assertArrayEquals(PAYLOAD, e.payload());

        Bytes<?> plain = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(plain, DataType.CHAT_INFERENCE, 5L, KEY, PAYLOAD, "reason".getBytes(StandardCharsets.UTF_8));
        SpoolRecord.Entry d = SpoolRecord.decode(4, plain);
        assertEquals("reason", d.note());
        assertNull(d.trace());
    }

    @Test
    void noKeyStaysNoKey() throws Exception {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(bytes, DataType.CHAT_INFERENCE, 1, null, PAYLOAD, null);
        SpoolRecord.Entry e = SpoolRecord.decode(1, bytes);
        assertNull(e.key());
        assertNull(e.note());
    }

    @Test
    void everyFlippedByteIsDetected() {
        Bytes<?> original = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(original, DataType.MODEL_INFERENCE, 99, KEY, PAYLOAD, null);
        byte[] good = original.toByteArray();
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            int at = i;
            assertThrows(
                    SpoolRecord.CorruptRecordException.class,
                    () -> SpoolRecord.decode(1, Bytes.wrapForRead(bad)),
                    "flip at byte " + at + " not detected");
        }
    }

    @Test
    void aTornRecordIsDetected() {
        Bytes<?> original = Bytes.allocateElasticOnHeap();
        SpoolRecord.encode(original, DataType.MODEL_INFERENCE, 99, KEY, PAYLOAD, null);
        byte[] good = original.toByteArray();
        for (int length : new int[] {0, 10, 24, good.length / 2, good.length - 1}) {
            byte[] torn = Arrays.copyOf(good, length);
            SpoolRecord.CorruptRecordException e = assertThrows(
                    SpoolRecord.CorruptRecordException.class, () -> SpoolRecord.decode(1, Bytes.wrapForRead(torn)));
            assertTrue(e.getMessage().length() > 0);
        }
    }
}
