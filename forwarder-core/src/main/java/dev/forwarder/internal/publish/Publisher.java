package dev.forwarder.internal.publish;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.InferenceRecord;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.json.KeyScanner;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.json.Pool;
import dev.forwarder.internal.json.RecordWriter;
import dev.forwarder.internal.kafka.MessageSizes;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request path: admit a record (framing, the spool's room), append it, count it, or drop it with a
 * reason; and, with {@code async_writes = false}, wait for its fate. Never throws, never waits for Kafka
 * otherwise. Safe from any number of threads.
 *
 * <p>Accounting: every record offered counts one offer, then exactly one of appended or dropped (by reason), so
 * {@code offered = appended + dropped} at every moment that no publish is in progress.
 *
 * <p>Misuse: {@link #close} before closing the spool: it refuses new publishes and waits for appends in
 * progress (microseconds; a {@code block} wait for room at most {@code block_timeout_ms}).
 */
public final class Publisher {

    private static final Logger LOG = LoggerFactory.getLogger(Publisher.class);

    /** Whether {@link #observeAppend} has logged a failure of the observer already. */
    private volatile boolean observerFailed;

    /** What the request path tells the metrics. Must be quick and must not throw. */
    public interface Observer {
        /** A record was appended; {@code nanos} is the append's duration when {@code sampled}. */
        void appended(long nanos, boolean sampled);

        void dropped(PublishResult.Status reason);

        /** A record checked here (a typed publish) had {@code count} ids that are not UUIDv7. */
        void idsNotV7(long count);
    }

    /** The forwarder's help when the spool is full and {@code on_full = drop_oldest}. */
    public interface Room {
        /** Whether a roll file could be discarded now. */
        boolean canDiscard();

        /** Asks for a roll file to be discarded, if a record of {@code bytes} still does not fit. */
        void requestRoom(int bytes);
    }

    private final ForwarderConfig config;
    private final boolean accepting;
    private final Spool spool;
    private final SpaceGuard space;
    private final Room room;
    private final SyncWaiters waiters;
    private final Observer observer;
    private final EventCodec codec;
    /** The typed publishes' writers, kept from publish to publish. */
    private final Pool<RecordWriter> writers;

    private final MessageSizes sizes;
    private final TraceCapture trace;
    private final LongAdder offered = new LongAdder();
    private final LongAdder appended = new LongAdder();
    private final LongAdder appendedBytes = new LongAdder();
    private final Map<PublishResult.Status, LongAdder> dropped = new EnumMap<>(PublishResult.Status.class);
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean closed;

    /**
     * @param spool   null when output is disabled (every record is dropped as DROPPED_DISABLED)
     * @param room    null for an append-only process, or when on_full is not drop_oldest
     * @param waiters null with async_writes = true
     * @param sizes   the largest record each topic takes; null: no size check (output disabled, or an
     *                append-only process, which never asks the cluster)
     */
    public Publisher(
            ForwarderConfig config,
            Spool spool,
            SpaceGuard space,
            Room room,
            SyncWaiters waiters,
            Observer observer,
            MessageSizes sizes) {
        this.config = config;
        this.sizes = sizes;
        this.accepting = spool != null;
        this.spool = spool;
        this.space = space;
        this.room = room;
        this.waiters = waiters;
        this.observer = observer;
        this.codec = new EventCodec(observer::idsNotV7, config.unknownFields() == ForwarderConfig.UnknownFields.CARRY);
        this.writers = new Pool<>(codec::newWriter, RecordWriter::trim);
        this.trace =
                new TraceCapture(config.tracing() == null || config.tracing().propagate());
        for (PublishResult.Status status : PublishResult.Status.values()) {
            if (!status.inSpool()) {
                dropped.put(status, new LongAdder());
            }
        }
        // The classes of the request path, loaded here rather than by the first publish (OpenTelemetry's context
        // alone took about 14 ms of a first publish's 30): the key's scan, the trace context, the result.
        KeyScanner.find(WARM_UP_RECORD);
        trace.capture();
        new PublishResult(PublishResult.Status.ACCEPTED, -1, null).accepted();
    }

    private static final byte[] WARM_UP_RECORD =
            "{\"id\":\"0\",\"x\":[1,{\"y\":null}]}".getBytes(StandardCharsets.UTF_8);

    /** Serialises a typed record and publishes it. */
    public PublishResult publish(InferenceRecord record) {
        PublishResult refused = enter();
        if (refused != null) {
            return refused;
        }
        PublishResult result;
        RecordWriter writer = writers.take();
        try {
            try {
                codec.serialize(record, writer);
            } catch (RuntimeException e) {
                return drop(
                        PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                        "cannot serialise " + (record == null ? "null" : record.dataType()) + " record: "
                                + e.getMessage());
            }
            if (writer.keyOffset() >= 0) {
                result = append(
                        record.dataType(),
                        writer.bytes(),
                        writer.keyOffset(),
                        writer.keyLength(),
                        writer.bytes(),
                        writer.length());
            } else {
                String text = MessageKeys.keyOf(record);
                byte[] key = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
                result = append(
                        record.dataType(), key, 0, key == null ? -1 : key.length, writer.bytes(), writer.length());
            }
        } catch (RuntimeException e) {
            result = drop(PublishResult.Status.DROPPED_IO_ERROR, "publish failed: " + e);
        } finally {
            writers.give(writer);
            active.decrementAndGet();
        }
        return awaitIfSync(result);
    }

    /**
     * Publishes JSON serialised by the caller; only its framing (one {@code {...}} object) is checked. The
     * request path proper: on the usual record it allocates nothing but its result (the key is found by
     * {@link KeyScanner} and copied straight from {@code json} into the spool).
     */
    public PublishResult publish(DataType type, byte[] json) {
        PublishResult refused = enter();
        if (refused != null) {
            return refused;
        }
        PublishResult result;
        try {
            if (type == null || !looksLikeOneObject(json)) {
                result = drop(
                        PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                        type == null ? "no data type given" : type + " record is not one JSON object");
            } else {
                long found = KeyScanner.find(json);
                if (found == KeyScanner.ASK_JACKSON) {
                    String text = MessageKeys.keyOf(json);
                    byte[] key = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
                    result = append(type, key, 0, key == null ? -1 : key.length, json, json.length);
                } else if (found == KeyScanner.NO_KEY) {
                    result = append(type, null, 0, -1, json, json.length);
                } else {
                    result = append(type, json, KeyScanner.offset(found), KeyScanner.length(found), json, json.length);
                }
            }
        } catch (RuntimeException e) {
            result = drop(PublishResult.Status.DROPPED_IO_ERROR, "publish failed: " + e);
        } finally {
            active.decrementAndGet();
        }
        return awaitIfSync(result);
    }

    /**
     * Publishes several records serialised by the caller, all or nothing: every one's framing is checked and
     * room is taken in the spool for all of them at once before the first is appended, so that either every
     * record is appended or none is (each dropped with the same reason). Only an I/O fault of the spool
     * between two appends (a disk that fails under a reservation) leaves a prefix appended: the results say
     * which.
     *
     * @return one result per record, in order
     */
    public List<PublishResult> publishAll(DataType type, List<byte[]> jsons) {
        int n = jsons.size();
        offered.add(n);
        if (!accepting) {
            return dropAll(n, PublishResult.Status.DROPPED_DISABLED, "Kafka output is disabled");
        }
        active.incrementAndGet();
        List<PublishResult> results;
        try {
            if (closed) {
                return dropAll(n, PublishResult.Status.DROPPED_CLOSED, "the forwarder is closed");
            }
            results = appendAll(type, jsons);
        } catch (RuntimeException e) {
            results = dropAll(n, PublishResult.Status.DROPPED_IO_ERROR, "publish failed: " + e);
        } finally {
            active.decrementAndGet();
        }
        if (waiters == null) {
            return results;
        }
        // async_writes = false: one deadline for the batch, not one per record.
        long deadline =
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.kafka().requestTimeoutMs());
        List<PublishResult> settled = new ArrayList<>(n);
        for (PublishResult result : results) {
            long leftMs = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            settled.add(
                    result.status() == PublishResult.Status.ACCEPTED
                            ? waiters.await(result.spoolIndex(), leftMs)
                            : result);
        }
        return settled;
    }

    private List<PublishResult> appendAll(DataType type, List<byte[]> jsons) {
        int n = jsons.size();
        if (type == null) {
            return dropAll(n, PublishResult.Status.DROPPED_SERIALIZATION_ERROR, "no data type given");
        }
        byte[][] keys = new byte[n][];
        byte[] traceNote = trace.capture(); // one thread, one trace context for the batch
        int traceLength = traceNote == null ? 0 : traceNote.length;
        long total = 0;
        for (int i = 0; i < n; i++) {
            byte[] json = jsons.get(i);
            if (!looksLikeOneObject(json)) {
                return dropAll(
                        n,
                        PublishResult.Status.DROPPED_SERIALIZATION_ERROR,
                        "record " + (i + 1) + " of " + n + ": " + type + " record is not one JSON object");
            }
            String key = MessageKeys.keyOf(json);
            keys[i] = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
            long recordBytes = (long) json.length + (keys[i] == null ? 0 : keys[i].length);
            if (sizes != null && recordBytes > sizes.maxRecordBytes(type)) {
                return dropAll(
                        n,
                        PublishResult.Status.DROPPED_TOO_LARGE,
                        "record " + (i + 1) + " of " + n + ": " + sizes.tooLarge(type, recordBytes));
            }
            total += spool.encodedSize(keys[i] == null ? -1 : keys[i].length, json.length, traceLength);
        }
        if (total > Integer.MAX_VALUE || !reserve((int) total)) {
            return dropAll(n, PublishResult.Status.DROPPED_SPOOL_FULL, spoolFull());
        }
        List<PublishResult> results = new ArrayList<>(n);
        long now = System.currentTimeMillis();
        for (int i = 0; i < n; i++) {
            byte[] json = jsons.get(i);
            long index;
            try {
                byte[] key = keys[i];
                index = spool.append(
                        type,
                        now,
                        key,
                        0,
                        key == null ? -1 : key.length,
                        json,
                        json.length,
                        traceNote,
                        traceFlags(traceNote));
            } catch (RuntimeException | Error e) {
                String detail = "cannot append to the spool: " + e;
                for (int j = i; j < n; j++) {
                    results.add(drop(PublishResult.Status.DROPPED_IO_ERROR, detail));
                }
                return results;
            }
            observeAppend(0, false);
            appended.increment();
            appendedBytes.add(json.length);
            results.add(new PublishResult(PublishResult.Status.ACCEPTED, index, null));
        }
        return results;
    }

    /**
     * Tells the observer (the metrics) of an append. The record is in the spool by then, so a fault of the
     * metrics (a class missing from the application's class path) is logged once and must not turn its
     * ACCEPTED into an exception in the caller.
     */
    private void observeAppend(long nanos, boolean sampled) {
        try {
            observer.appended(nanos, sampled);
        } catch (RuntimeException | LinkageError e) {
            if (!observerFailed) {
                observerFailed = true;
                LOG.error("the metrics failed to count an append (the record is in the spool); not logged again", e);
            }
        }
    }

    private static short traceFlags(byte[] traceNote) {
        return traceNote == null ? 0 : SpoolRecord.TRACED;
    }

    /**
     * Takes room for {@code bytes} before appending them (counted as appended at once, so that no other
     * publisher takes it meanwhile), waiting for it as {@code on_full} says.
     */
    private boolean reserve(int bytes) {
        if (space.reserve(bytes)) {
            return true;
        }
        return waitForRoom(bytes) && space.reserve(bytes);
    }

    private List<PublishResult> dropAll(int n, PublishResult.Status status, String detail) {
        List<PublishResult> results = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            results.add(drop(status, detail));
        }
        return results;
    }

    private String spoolFull() {
        return "the spool is at spool.max_bytes (" + config.kafka().spool().maxBytes()
                + " bytes) or its disk is nearly full";
    }

    /**
     * With {@code async_writes = false}: waits for the fate of an appended record, outside the section that
     * keeps close() from closing the spool (so close never waits for these waits).
     */
    private PublishResult awaitIfSync(PublishResult result) {
        if (waiters == null || result.status() != PublishResult.Status.ACCEPTED) {
            return result;
        }
        return waiters.await(result.spoolIndex(), config.kafka().requestTimeoutMs());
    }

    /**
     * What every publish does before its own work: counts the offer, and refuses when disabled or closed;
     * otherwise it enters the section that keeps close() from shutting the spool under an append (the caller
     * leaves it with {@code active.decrementAndGet()} in a finally) and returns null.
     */
    private PublishResult enter() {
        offered.increment();
        if (!accepting) {
            return drop(PublishResult.Status.DROPPED_DISABLED, "Kafka output is disabled");
        }
        active.incrementAndGet();
        if (closed) {
            active.decrementAndGet();
            return drop(PublishResult.Status.DROPPED_CLOSED, "the forwarder is closed");
        }
        return null;
    }

    /** Appends the first {@code jsonLength} bytes of {@code json}, its key taken from {@code keySource}. */
    private PublishResult append(
            DataType type, byte[] keySource, int keyOffset, int keyLength, byte[] json, int jsonLength) {
        long recordBytes = (long) jsonLength + Math.max(0, keyLength);
        if (sizes != null && recordBytes > sizes.maxRecordBytes(type)) {
            return drop(PublishResult.Status.DROPPED_TOO_LARGE, sizes.tooLarge(type, recordBytes));
        }
        byte[] traceNote = trace.capture();
        int size = spool.encodedSize(keyLength, jsonLength, traceNote == null ? 0 : traceNote.length);
        if (!space.admits(size) && !waitForRoom(size)) {
            return drop(PublishResult.Status.DROPPED_SPOOL_FULL, spoolFull());
        }
        long index;
        // One in 64 appends is timed: the latency histogram allocates a little per update.
        boolean sampled = (ThreadLocalRandom.current().nextInt() & 63) == 0;
        long start = sampled ? System.nanoTime() : 0;
        try {
            index = spool.append(
                    type,
                    System.currentTimeMillis(),
                    keySource,
                    keyOffset,
                    keyLength,
                    json,
                    jsonLength,
                    traceNote,
                    traceFlags(traceNote));
        } catch (RuntimeException | Error e) {
            // Chronicle reports a fault in a mapped file (a full disk) as InternalError: never let it escape.
            return drop(PublishResult.Status.DROPPED_IO_ERROR, "cannot append to the spool: " + e);
        }
        space.appended(size);
        observeAppend(sampled ? System.nanoTime() - start : 0, sampled);
        appended.increment();
        appendedBytes.add(jsonLength);
        return new PublishResult(PublishResult.Status.ACCEPTED, index, null);
    }

    /**
     * With on_full = block: waits, at most spool.block_timeout_ms, for room. With drop_oldest: asks the
     * forwarder thread to discard the oldest roll file and waits for that, at most 100 ms; with nothing it
     * could discard (one roll file, or an append-only process) it drops the new record at once. Never
     * without a bound.
     */
    private boolean waitForRoom(int size) {
        ForwarderConfig.Spool settings = config.kafka().spool();
        long waitMs;
        if (settings.onFull() == ForwarderConfig.OnFull.BLOCK) {
            waitMs = settings.blockTimeoutMs();
        } else if (settings.onFull() == ForwarderConfig.OnFull.DROP_OLDEST && room != null && room.canDiscard()) {
            room.requestRoom(size);
            waitMs = 100;
        } else {
            return false;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (System.nanoTime() - deadline < 0 && !closed) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            if (space.admits(size)) {
                return true;
            }
        }
        return false;
    }

    private PublishResult drop(PublishResult.Status status, String detail) {
        dropped.get(status).increment();
        observer.dropped(status);
        return new PublishResult(status, -1, detail);
    }

    static boolean looksLikeOneObject(byte[] json) {
        if (json == null) {
            return false;
        }
        int start = 0;
        int end = json.length - 1;
        while (start <= end && isJsonWhitespace(json[start])) {
            start++;
        }
        while (end >= start && isJsonWhitespace(json[end])) {
            end--;
        }
        return end > start && json[start] == '{' && json[end] == '}';
    }

    private static boolean isJsonWhitespace(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    /** Refuses new publishes (DROPPED_CLOSED) and waits for the appends in progress to finish. */
    public void close() {
        closed = true;
        while (active.get() > 0) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
        }
    }

    /** Ends the waits of synchronous publishers (after the drain): their records stay in the spool. */
    public void releaseWaiters() {
        if (waiters != null) {
            waiters.closeAll();
        }
    }

    /**
     * Whether a record of the mean size appended so far (at least 1 KiB) would be appended now: not closed,
     * output enabled, and room in the spool. For readiness checks; cheap (no I/O).
     */
    public boolean acceptsRecords() {
        return accepting
                && !closed
                && space.admits((int) Math.min(Integer.MAX_VALUE, Math.max(1024, meanRecordBytes())));
    }

    public long offered() {
        return offered.sum();
    }

    public long appended() {
        return appended.sum();
    }

    /** Mean payload size of the records appended, for the backlog-bytes estimate; 1024 before any. */
    public long meanRecordBytes() {
        long n = appended.sum();
        return n == 0 ? 1024 : appendedBytes.sum() / n;
    }

    /** Drops by reason, every reason present (zeros included). */
    public Map<PublishResult.Status, Long> dropped() {
        Map<PublishResult.Status, Long> out = new EnumMap<>(PublishResult.Status.class);
        dropped.forEach((status, count) -> out.put(status, count.sum()));
        return out;
    }
}
