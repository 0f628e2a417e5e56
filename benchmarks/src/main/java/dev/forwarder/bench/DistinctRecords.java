package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Distinct ~1 KB chat_inference records of one size (ids differ) and their keys, taken in turn by call number:
 * a key comes again only after {@link #COUNT} calls (0.8 s at 20,000/s), long after its record was
 * acknowledged. One record for every call (as before 2026-11-30) gave every record the same key, which the
 * forwarder sends one at a time, each after the last one's acknowledgement: it fell behind by ~199,000 of
 * 200,000 records.
 */
final class DistinctRecords {

    static final int COUNT = 16_384;

    private final byte[][] jsons = new byte[COUNT][];
    private final byte[][] keys = new byte[COUNT][];

    DistinctRecords() {
        UUID run = UUID.randomUUID();
        for (int i = 0; i < COUNT; i++) {
            String id = Records.id(run, i);
            jsons[i] = Records.json(DataType.CHAT_INFERENCE, id);
            keys[i] = id.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The record of call {@code call}. */
    byte[] json(long call) {
        return jsons[(int) (call % COUNT)];
    }

    /** Its key (the record's id). */
    byte[] key(long call) {
        return keys[(int) (call % COUNT)];
    }
}
