package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.forwarder.DataType;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The window's per-key order, by the keys' hashes (the seeded simulations check it end to end). */
class DeliveryWindowTest {

    private final DeliveryWindow window = new DeliveryWindow(1000, 1L << 30, new DeliveryObserver() {}, () -> 0);
    private final Object producer = new Object();
    private long index;

    private DeliveryWindow.Attempt add(DataType type, String key) {
        byte[] k = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        return window.add(new SpoolRecord.Entry(index++, type, 0, k, new byte[10], null), 0, producer);
    }

    @Test
    void aKeysLaterRecordWaitsForItsEarlierOneAndNoOtherKeyWaits() {
        DeliveryWindow.Attempt first = add(DataType.CHAT_INFERENCE, "a");
        assertNotNull(first);
        assertNull(add(DataType.CHAT_INFERENCE, "a"), "held behind the unacknowledged first record of key a");
        assertNotNull(add(DataType.CHAT_INFERENCE, "b"), "another key is sent at once");
        assertNotNull(add(DataType.JSON_INFERENCE, "a"), "the same key of another data type is another key");
        assertNotNull(add(DataType.CHAT_INFERENCE, null), "a record without a key keeps no order");
        assertEquals(List.of(), window.release());

        first.onCompletion(null, null); // acknowledged
        List<DeliveryWindow.Slot> released = window.release();
        assertEquals(1, released.size());
        assertEquals(1, released.get(0).index);
    }

    @Test
    void aKeyWhoseRecordsLeftTheWindowHoldsNothing() {
        add(DataType.MODEL_INFERENCE, "k").onCompletion(null, null);
        assertNotNull(window.pollSettledHead());
        assertNotNull(add(DataType.MODEL_INFERENCE, "k"), "its earlier record left the window acknowledged");
    }

    /** Distinct ids of one run (the usual keys) and keys one byte apart get distinct hashes. */
    @Test
    void distinctKeysGetDistinctHashes() {
        Set<Long> hashes = new HashSet<>();
        UUID run = UUID.randomUUID();
        int keys = 0;
        for (int i = 0; i < 200_000; i++, keys++) {
            String id = new UUID(run.getMostSignificantBits(), i).toString();
            hashes.add(DeliveryWindow.orderHash(0, id.getBytes(StandardCharsets.UTF_8)));
        }
        for (int type = 0; type < DataType.values().length; type++) {
            for (int b = 0; b < 256; b++, keys++) {
                hashes.add(DeliveryWindow.orderHash(type, new byte[] {(byte) b}));
            }
        }
        assertEquals(keys, hashes.size());
    }
}
