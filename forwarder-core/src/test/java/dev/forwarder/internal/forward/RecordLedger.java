package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The simulations' books of records: each has an id (in its JSON as {@code "n"}), a key, maybe the poison
 * mark that makes the simulated Kafka refuse it for good; the ledger knows which were accepted into the spool
 * and checks, at the end of a run, where they went.
 */
final class RecordLedger {

    final Set<Long> accepted = new HashSet<>();
    final Set<Long> poison = new HashSet<>();
    /** Accepted, then gone from the spool in an OS crash before they reached the disk: anywhere or nowhere. */
    final Set<Long> vanished = new HashSet<>();

    private final List<Long> acceptedInOrder = new ArrayList<>();
    private int onDisk;
    /** (source_id, spool_index) of every message Kafka got, and the record it named. */
    private final Map<String, Long> identities = new HashMap<>();

    private long nextId;

    /** Every record accepted so far reached the disk (a writeback). */
    void writtenBack() {
        onDisk = acceptedInOrder.size();
    }

    /** An OS crash: the records accepted since the last writeback are gone from the spool. */
    void lostWithThePageCache() {
        for (long id : acceptedInOrder.subList(onDisk, acceptedInOrder.size())) {
            accepted.remove(id);
            vanished.add(id);
        }
        acceptedInOrder.subList(onDisk, acceptedInOrder.size()).clear();
    }

    /**
     * Kafka got record {@code id} under (source_id, spool_index) {@code identity}: a pair never names two
     * records (consumers dedupe on it), whatever crashed.
     */
    void identified(String identity, long id) {
        Long before = identities.putIfAbsent(identity, id);
        if (before != null && before != id) {
            fail("(source_id, spool_index) " + identity + " names two records: " + before + " and " + id);
        }
    }

    /** The id of the next record offered. */
    long nextId() {
        return nextId++;
    }

    /** The spool took record {@code id}. */
    void accepted(long id, boolean isPoison) {
        accepted.add(id);
        acceptedInOrder.add(id);
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

    /** A message's (source_id, spool_index), from its headers. */
    static String identity(ProducerRecord<byte[], byte[]> record) {
        return new String(
                        record.headers()
                                .lastHeader(KafkaMessages.HEADER_SOURCE_ID)
                                .value(),
                        StandardCharsets.UTF_8)
                + "/"
                + new String(
                        record.headers()
                                .lastHeader(KafkaMessages.HEADER_SPOOL_INDEX)
                                .value(),
                        StandardCharsets.UTF_8);
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
            if (!accepted.contains(id) && !vanished.contains(id)) {
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
