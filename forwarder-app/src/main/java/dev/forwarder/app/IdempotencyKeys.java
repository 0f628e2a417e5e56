package dev.forwarder.app;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bodies HTTP ingest has taken, by the client's {@code Idempotency-Key} header, so that a body sent again
 * under its key is not appended twice (the IETF draft "The Idempotency-Key HTTP Header Field", as Stripe and
 * others serve it).
 *
 * <p>A key names one body of one data type (its SHA-256 is kept with it). While a request holds the key,
 * another with the same key is told so ({@link InProgress}: 409); a key sent with another body is refused
 * ({@link Mismatch}: 422); once answered, the same body gets the same answer again ({@link Answered}) without
 * appending anything. A body refused with nothing appended (503, spool full) forgets its key: the retry is a
 * first attempt. A body cut short after some of its lines were appended (an I/O fault of the spool) keeps
 * how many: the retry appends only the rest ({@link Proceed#from}).
 *
 * <p>Kept in memory, the newest {@link #MAX_KEYS} for at most {@link #KEEP_MS}: a retry after the process
 * restarted is a first attempt. Thread-safe.
 */
final class IdempotencyKeys {

    static final int MAX_KEYS = 65_536;
    static final long KEEP_MS = 24L * 3600 * 1000;
    static final int MAX_KEY_LENGTH = 255;

    /** What a request carrying a key may do. */
    sealed interface Claim permits Proceed, InProgress, Mismatch, Answered {}

    /** Go ahead from line {@code from} (0: the whole body); report with {@link #finish} or {@link #release}. */
    record Proceed(String key, int from) implements Claim {}

    /** Another request with this key is in progress. */
    record InProgress() implements Claim {}

    /** The key was used for another body (or data type). */
    record Mismatch() implements Claim {}

    /** The body was taken: send this answer again. */
    record Answered(int status, byte[] body) implements Claim {}

    private static final class Entry {
        final byte[] digest;
        final long createdMs;
        boolean inProgress = true;
        int appended;
        int status;
        byte[] answer;

        Entry(byte[] digest, long createdMs) {
            this.digest = digest;
            this.createdMs = createdMs;
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    /** Null when {@code key} is acceptable, else why not. */
    static String invalid(String key) {
        if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            return "Idempotency-Key must be 1 to " + MAX_KEY_LENGTH + " characters long";
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return "Idempotency-Key must be visible ASCII characters (no spaces)";
            }
        }
        return null;
    }

    synchronized Claim claim(String key, byte[] digest, long nowMs) {
        expire(nowMs);
        Entry entry = entries.get(key);
        if (entry == null) {
            if (entries.size() >= MAX_KEYS) {
                evictOldestAnswered();
            }
            entries.put(key, new Entry(digest, nowMs));
            return new Proceed(key, 0);
        }
        if (!Arrays.equals(entry.digest, digest)) {
            return new Mismatch();
        }
        if (entry.inProgress) {
            return new InProgress();
        }
        if (entry.answer != null) {
            return new Answered(entry.status, entry.answer);
        }
        entry.inProgress = true;
        return new Proceed(key, entry.appended);
    }

    /** The body was taken whole: every later request with its key gets {@code status} and {@code body}. */
    synchronized void finish(Proceed claim, int status, byte[] body) {
        Entry entry = entries.get(claim.key());
        if (entry != null) {
            entry.inProgress = false;
            entry.status = status;
            entry.answer = body;
        }
    }

    /**
     * The body was not taken whole: {@code appended} of its lines (counted from the first) are in the spool.
     * With none, the key is forgotten; else a retry appends from there.
     */
    synchronized void release(Proceed claim, int appended) {
        Entry entry = entries.get(claim.key());
        if (entry == null) {
            return;
        }
        if (appended == 0) {
            entries.remove(claim.key());
        } else {
            entry.inProgress = false;
            entry.appended = appended;
        }
    }

    synchronized int size() {
        return entries.size();
    }

    private void expire(long nowMs) {
        Iterator<Entry> oldestFirst = entries.values().iterator();
        while (oldestFirst.hasNext()) {
            Entry entry = oldestFirst.next();
            if (nowMs - entry.createdMs < KEEP_MS) {
                return;
            }
            if (!entry.inProgress) {
                oldestFirst.remove();
            }
        }
    }

    private void evictOldestAnswered() {
        Iterator<Entry> oldestFirst = entries.values().iterator();
        while (oldestFirst.hasNext()) {
            if (!oldestFirst.next().inProgress) {
                oldestFirst.remove();
                return;
            }
        }
    }
}
