package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * The simulations' books of records: each has an id (in its JSON as {@code "n"}), a key, maybe the poison
 * mark that makes the simulated Kafka refuse it for good; the ledger knows which were accepted into the spool
 * and checks, at the end of a run, where they went.
 */
final class RecordLedger {

    final Set<Long> accepted = new HashSet<>();
    final Set<Long> poison = new HashSet<>();
    private long nextId;

    /** The id of the next record offered. */
    long nextId() {
        return nextId++;
    }

    /** The spool took record {@code id}. */
    void accepted(long id, boolean isPoison) {
        accepted.add(id);
        if (isPoison) {
            poison.add(id);
        }
    }

    /** A record: its id, a key, maybe the poison mark, and up to 400 bytes of padding. */
    static byte[] recordJson(long id, String key, boolean poison, Random rnd) {
        return ("{\"inference_id\":\"" + key + "\",\"n\":" + id + (poison ? ",\"poison\":true" : "") + ",\"pad\":\""
                        + "x".repeat(rnd.nextInt(400)) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static long idOf(byte[] json) {
        String s = new String(json, StandardCharsets.UTF_8);
        int at = s.indexOf("\"n\":") + 4;
        int end = at;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        return Long.parseLong(s.substring(at, end));
    }

    static boolean isPoison(byte[] json) {
        return new String(json, StandardCharsets.UTF_8).contains("\"poison\":true");
    }

    /**
     * Only accepted records that Kafka does not refuse are in the topic, only refused ones are dead letters,
     * and every accepted record is in one of the two unless counted lost.
     */
    void checkWhereRecordsWent(Set<Long> inTopic, Set<Long> inDeadLetters, long lost, ForwarderConfig.OnFull onFull) {
        for (long id : inTopic) {
            if (!accepted.contains(id)) {
                fail("record " + id + " is in the topic but was never accepted");
            }
            if (poison.contains(id)) {
                fail("poison record " + id + " is in the topic");
            }
        }
        for (long id : inDeadLetters) {
            if (!poison.contains(id)) {
                fail("record " + id + " is in the dead-letter spool but Kafka never refused it for good");
            }
        }
        long missing = 0;
        for (long id : accepted) {
            if (!inTopic.contains(id) && !inDeadLetters.contains(id)) {
                missing++;
            }
        }
        if (missing > lost) {
            fail(missing + " accepted records are neither in the topic nor dead-lettered, but only " + lost
                    + " were counted lost (on_full " + onFull + ")");
        }
    }

    /** The ids in the dead-letter spool. */
    static Set<Long> readDeadLetters(Spool deadLetterSpool, long nowNanos) {
        Set<Long> ids = new HashSet<>();
        SpoolReader reader = new SpoolReader(
                deadLetterSpool, (index, reason) -> fail("corrupt dead letter " + index + ": " + reason));
        reader.seekAfter(Checkpoint.NONE);
        SpoolRecord.Entry e;
        while ((e = reader.next(nowNanos)) != null) {
            ids.add(idOf(e.payload()));
        }
        reader.close();
        return ids;
    }
}
