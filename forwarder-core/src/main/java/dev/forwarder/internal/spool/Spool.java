package dev.forwarder.internal.spool;

import dev.forwarder.DataType;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.StoreFileListener;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * The write-ahead log: a Chronicle Queue in {@code <dir>/queue}, of {@link SpoolRecord}s.
 *
 * <p>Appending is a copy into a memory-mapped file: no system call, no lock but Chronicle's own
 * (shared between processes, so several processes may append to one spool). Within a process, threads
 * take turns on one appender. A spool has a stable random id, {@code <dir>/source-id}, written once by
 * whichever process creates the spool; with a record's index it identifies that record everywhere (the Kafka
 * headers).
 *
 * <p>Misuse: a spool directory belongs to one machine (Chronicle recovers its write lock by process id),
 * so never put it on a network file system.
 */
public final class Spool implements AutoCloseable {

    static {
        // Chronicle's usage analytics and its banner: off, even where the embedding application did not
        // pass -D flags. These must be set before any Chronicle class initialises.
        quietChronicle();
    }

    /** The dead-letter spool's directory inside a spool's. */
    public static final String DEAD_LETTER_DIR = "dead-letter";

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final SpoolIdentity identity;
    private final boolean syncEveryRecord;
    /** Roll to a new file once the current one holds this many bytes (0: by time only). */
    private final long rollBytes;

    private final RollClock clock;
    private volatile SpoolKeys keys;
    // One appender for every thread of this process, taken in turn: a thread-local appender per thread
    // would be made again for every virtual thread and never released (Chronicle keeps each until close).
    private final ReentrantLock appendLock = new ReentrantLock();
    private ExcerptAppender appender; // guarded by appendLock; made at the first append
    private final SpoolRecord.Writer writer = new SpoolRecord.Writer(); // guarded by appendLock
    // Where this process last appended: the roll cycle and the end of the record in its file (for the pretoucher).
    private volatile int appendCycle = Integer.MIN_VALUE;
    private volatile long appendPosition;
    private Pretoucher pretoucher; // guarded by appendLock
    /**
     * {@code <dir>/cycle-mark}: above every roll cycle any process has appended to, forced to the disk before
     * the first record of a cycle is appended (see {@link #moveOnAfterRestart}).
     */
    private final SharedCounter cycleMark;
    /**
     * The highest value of the cycle mark this process has forced to the disk itself (another process's raise
     * may not be forced yet): an append forces the mark unless this is above its cycle.
     */
    private final AtomicLong markForced = new AtomicLong(Long.MIN_VALUE);
    /** Makes the next cycle's roll file and mark ahead of the clock ({@link RollAhead}). */
    private final RollAhead rollAhead = new RollAhead(this);
    /** {@code <dir>/sealing-keys}: every key that sealed a record, logged before its first record. */
    private final SealingLog sealingLog;

    /**
     * How a spool's roll files are made.
     *
     * @param rollPeriod      how much time one roll file covers at most
     * @param rollBytes       how large a roll file may grow before the next append opens a new one (the roll
     *                        clock jumps to the next cycle); 0 for never by size
     * @param blockSize       Chronicle's mapping block size in bytes, or 0 for its default
     * @param syncEveryRecord {@code spool.sync = every_record}: each append returns after an msync(MS_SYNC) of
     *                        its pages
     * @param wallClock       epoch milliseconds, or null for the system clock (the simulation passes its own, so
     *                        that roll files change at the same steps in every run)
     */
    public record Settings(
            RollPeriod rollPeriod, long rollBytes, long blockSize, boolean syncEveryRecord, LongSupplier wallClock) {

        /** Hourly roll files, Chronicle's block size, no roll by size: for tools and tests. */
        public static Settings defaults() {
            return new Settings(RollPeriod.HOURLY, 0, 0, false, null);
        }

        public Settings rollPeriod(RollPeriod period) {
            return new Settings(period, rollBytes, blockSize, syncEveryRecord, wallClock);
        }

        public Settings rollBytes(long bytes) {
            return new Settings(rollPeriod, bytes, blockSize, syncEveryRecord, wallClock);
        }

        public Settings blockSize(long bytes) {
            return new Settings(rollPeriod, rollBytes, bytes, syncEveryRecord, wallClock);
        }

        public Settings syncEveryRecord(boolean sync) {
            return new Settings(rollPeriod, rollBytes, blockSize, sync, wallClock);
        }

        public Settings wallClock(LongSupplier clock) {
            return new Settings(rollPeriod, rollBytes, blockSize, syncEveryRecord, clock);
        }
    }

    /** A spool with {@link Settings#defaults()}, for tools and tests. */
    public Spool(Path dir) throws IOException {
        this(dir, Settings.defaults());
    }

    public Spool(Path dir, Settings settings) throws IOException {
        this.dir = dir;
        this.syncEveryRecord = settings.syncEveryRecord();
        this.rollBytes = settings.rollBytes();
        // Every prompt and answer lands here: owner-only, whatever the umask (OwnerOnly says how).
        OwnerOnly.directory(dir);
        OwnerOnly.tree(dir);
        OwnerOnly.directory(dir.resolve("queue"));
        this.identity = new SpoolIdentity(dir);
        this.clock =
                new RollClock(dir, settings.wallClock() != null ? settings.wallClock() : System::currentTimeMillis);
        this.cycleMark = SharedCounter.open(dir.resolve("cycle-mark"));
        this.sealingLog = new SealingLog(dir);
        SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(dir.resolve("queue"))
                .rollCycle(settings.rollPeriod().chronicle())
                .timeProvider(clock::now)
                .storeFileListener(new StoreFileListener() {
                    @Override
                    public void onAcquired(int cycle, File file) {
                        OwnerOnly.file(file.toPath()); // a new roll file, created with the umask's permissions
                    }

                    @Override
                    public void onReleased(int cycle, File file) {}
                });
        if (settings.blockSize() > 0) {
            builder.blockSize(settings.blockSize());
        }
        if (syncEveryRecord) {
            // Without this, the appender's sync() is a no-op: Chronicle msyncs only in the store's sync mode.
            builder.syncMode(SyncMode.SYNC);
        }
        this.queue = builder.build();
        OwnerOnly.tree(dir.resolve("queue"), false); // the queue's metadata file, just created
        // Never append to a cycle before the newest file's (the roll clock's floor may have gone back in an OS
        // crash, or the wall clock may be behind a clock that ran ahead).
        int newest = queue.lastCycle();
        if (newest != Integer.MIN_VALUE && newest != Integer.MAX_VALUE && newest >= 0) {
            clock.atLeast(cycleStartMs(newest));
        }
    }

    long cycleStartMs(long cycle) {
        return cycle * queue.rollCycle().lengthInMillis() + queue.epoch();
    }

    /** Sets Chronicle's quiet properties unless the application chose otherwise. Idempotent. */
    public static void quietChronicle() {
        if (System.getProperty("chronicle.analytics.disable") == null) {
            System.setProperty("chronicle.analytics.disable", "true");
        }
        if (System.getProperty("chronicle.announcer.disable") == null) {
            System.setProperty("chronicle.announcer.disable", "true");
        }
    }

    public Path dir() {
        return dir;
    }

    public UUID sourceId() {
        return identity.sourceId();
    }

    /** The small files that keep its records' identities unique: source id, home, boot. */
    public SpoolIdentity identity() {
        return identity;
    }

    /** Read-only questions about the records (for tools, metrics and start-up), each with a reader of its own. */
    public SpoolQuery query() {
        return new SpoolQuery(this);
    }

    /**
     * From now on, payloads are sealed with the active key of {@code keys}, and records sealed with any of its
     * keys are opened when read ({@code spool.encryption}); null: plain. Set it before appending or reading.
     */
    public Spool sealWith(SpoolKeys keys) {
        this.keys = keys;
        return this;
    }

    SealingLog sealingLog() {
        return sealingLog;
    }

    /** The keys records are sealed and opened with, or null. */
    public SpoolKeys keys() {
        return keys;
    }

    /** The size {@link #append} will take for this record (sealed or not), without Chronicle's header. */
    public int encodedSize(byte[] key, byte[] payload, byte[] note) {
        return encodedSize(key == null ? -1 : key.length, payload.length, note == null ? 0 : note.length);
    }

    /** The same from lengths ({@code keyLength} -1: no key). */
    public int encodedSize(int keyLength, int payloadLength, int noteLength) {
        return SpoolRecord.encodedSize(keyLength, payloadLength, noteLength, keys != null);
    }

    /** How large a roll file may grow before the next append opens a new one; 0 for no bound. */
    public long rollBytes() {
        return rollBytes;
    }

    /** Appends one record; returns its index. Thread-safe. */
    public long append(DataType type, long appendTimeMs, byte[] key, byte[] payload, byte[] note) {
        return append(type, appendTimeMs, key, 0, key == null ? -1 : key.length, payload, note);
    }

    /**
     * Appends one record whose key is {@code keyLength} bytes of {@code keySource} from {@code keyOffset}
     * (-1: no key), without copying it out first; returns its index. Thread-safe: threads take turns on the
     * spool's one appender (the copy into the mapped file is the whole of the turn).
     */
    public long append(
            DataType type,
            long appendTimeMs,
            byte[] keySource,
            int keyOffset,
            int keyLength,
            byte[] payload,
            byte[] note) {
        return append(type, appendTimeMs, keySource, keyOffset, keyLength, payload, payload.length, note, (short) 0);
    }

    /**
     * As above, the payload being the first {@code payloadLength} bytes of {@code payload} (a buffer kept from
     * record to record), with the record's {@code flags} ({@link SpoolRecord#TRACED}: {@code note} is the
     * publishing thread's trace context).
     */
    public long append(
            DataType type,
            long appendTimeMs,
            byte[] keySource,
            int keyOffset,
            int keyLength,
            byte[] payload,
            int payloadLength,
            byte[] note,
            short flags) {
        SpoolKeys sealing = keys;
        if (sealing != null) {
            sealingLog.beforeSealing(sealing.activeId()); // on the disk before the record
        }
        appendLock.lock();
        try {
            ExcerptAppender a = appender();
            markCycle(currentCycle()); // before the first append to a cycle, whatever the sync policy
            try (DocumentContext dc = a.writingDocument()) {
                Bytes<?> bytes = dc.wire().bytes();
                writer.encode(
                        bytes,
                        type,
                        appendTimeMs,
                        keySource,
                        keyOffset,
                        keyLength,
                        payload,
                        payloadLength,
                        note,
                        flags,
                        sealing);
                appendPosition = bytes.writePosition();
            }
            int cycle = a.cycle();
            appendCycle = cycle;
            markCycle(cycle); // the wall clock stepped past a cycle meanwhile: late, but marked
            if (rollBytes > 0 && appendPosition >= rollBytes) {
                clock.atLeast(cycleStartMs(cycle + 1L)); // the next append, of any process, opens a new file
            }
            if (syncEveryRecord) {
                a.sync(); // msync of the mapped roll file up to this record
            }
            return a.lastIndexAppended();
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * The appender, made on first use (guarded by appendLock). Making it maps the newest roll file, if any, and
     * makes no file: {@link #prepareForAppends} makes it, so that the first publish does not.
     */
    private ExcerptAppender appender() {
        ExcerptAppender a = appender;
        if (a == null) {
            a = queue.createAppender();
            // Used by whichever thread holds the lock: Chronicle's check that one thread uses it is off.
            a.singleThreadedCheckDisabled(true);
            appender = a;
        }
        return a;
    }

    /**
     * Keeps the cycle mark above {@code cycle}, and forced to the disk, before a record is appended to it (one
     * msync a roll cycle, done ahead of the clock by {@link RollAhead} where the pretoucher runs; a volatile
     * read otherwise). Two threads may both force it: each counts it forced only after its own msync.
     */
    private void markCycle(long cycle) {
        if (cycle + 1 > markForced.get()) {
            cycleMark.raiseTo(cycle + 1);
            cycleMark.force();
            markForced.accumulateAndGet(cycle + 1, Math::max);
        }
    }

    /** {@link RollAhead}: the cycle mark above {@code cycle} and forced, before the clock reaches it. */
    void markAhead(long cycle) {
        markCycle(cycle);
    }

    /**
     * Makes ready, on the caller's thread, what the first append of a roll cycle would otherwise do on the
     * request path ({@link RollAhead}): the cycle's roll file, pre-created for Chronicle to take, and the cycle
     * mark forced, for the current cycle and, near its end, the next. The pretoucher's thread calls it every
     * round; the simulations call it as one of their steps.
     *
     * @param room bytes the disk has room for ({@link SpaceGuard#roomToTouch}): a pre-created file is no larger
     */
    public void rollAhead(long room) {
        rollAhead.round(room);
    }

    /** What an append does before it writes, for tests that write a record of their own (SpoolDamage). */
    void markBeforeAppend() {
        markCycle(currentCycle());
    }

    /** The roll clock's time now (ms). */
    long nowMs() {
        return clock.now();
    }

    /** The cycle an append would go to now. */
    long currentCycle() {
        return Math.floorDiv(clock.now() - queue.epoch(), queue.rollCycle().lengthInMillis());
    }

    /**
     * For a process that appends, at open, before its first append: when the machine has restarted since the
     * spool was last opened (the boot id differs, or cannot be known), an OS crash may have taken the spool's
     * last writes from the disk after they were forwarded to Kafka, and the spool would hand their indexes
     * out again: consumers that dedupe on (source_id, spool_index) would drop the new records. So appends move
     * on to a cycle above every cycle ever appended to: the cycle mark, forced to the disk before any record
     * of a new cycle (so it survives what the records may not). The boot id is then written, and forced.
     *
     * @param bootId this boot's id ({@code /proc/sys/kernel/random/boot_id}), null where there is none
     * @return the first cycle appends may use now, or -1 when nothing moved (same boot, or a spool never
     *     appended to)
     */
    public long moveOnAfterRestart(String bootId) throws IOException {
        if (!identity.bootChanged(bootId)) {
            return -1;
        }
        int newest = queue.lastCycle();
        long above = Math.max(cycleMark.get(), newest == Integer.MIN_VALUE || newest < 0 ? 0 : newest + 1L);
        if (above > 0) {
            clock.atLeast(cycleStartMs(above));
        }
        identity.recordBoot(bootId);
        return above > 0 ? above : -1;
    }

    /** What {@link #prepareForAppends} did. */
    public record Prepared(SpoolIdentity.CopiedFrom copiedFrom, long movedToCycle) {}

    /**
     * What a process does to the spool it opened before its first append, so that no record identity is ever
     * handed out twice: the forwarding process takes a source id of its own if this is a copy
     * ({@link SpoolIdentity#adoptIfCopied}), and every appending process moves appends on after a restart of
     * the machine ({@link #moveOnAfterRestart}). It also makes the appender, which the first append would make
     * on the request path. The product's open and the simulations call this one method.
     *
     * @param forwarding whether this process forwards the spool (holds its lock)
     * @param bootId     this boot's id, {@link SpoolIdentity#bootId()} but in simulations
     */
    public Prepared prepareForAppends(boolean forwarding, String bootId) throws IOException {
        SpoolIdentity.CopiedFrom copy = forwarding ? identity.adoptIfCopied(lastIndex()) : null;
        Prepared prepared = new Prepared(copy, moveOnAfterRestart(bootId));
        ChronicleWarmUp.once(dir);
        appendLock.lock();
        try {
            appender(); // the first append does not make it (a few ms: the newest roll file mapped)
        } finally {
            appendLock.unlock();
        }
        return prepared;
    }

    /**
     * Whether every record appended from now on gets an index above {@code index}: its cycle is before the
     * one the roll clock reads now (after {@link #moveOnAfterRestart} moved on, say).
     */
    public boolean appendsAbove(long index) {
        return queue.rollCycle().toCycle(index) < currentCycle();
    }

    /**
     * Starts touching the pages ahead of this process's appends on a thread of its own ({@link Pretoucher}), so
     * that first-write page faults do not land on the request path, never further ahead than {@code roomToTouch}
     * says the disk has room for ({@link SpaceGuard#roomToTouch}). Idempotent; stopped by {@link #close}.
     */
    public void pretouch(LongSupplier roomToTouch) {
        appendLock.lock();
        try {
            if (pretoucher == null) {
                pretoucher = new Pretoucher(this, roomToTouch);
            }
        } finally {
            appendLock.unlock();
        }
    }

    /** The pretoucher, once {@link #pretouch} started it: for tests. */
    Pretoucher pretoucher() {
        appendLock.lock();
        try {
            return pretoucher;
        } finally {
            appendLock.unlock();
        }
    }

    int appendCycle() {
        return appendCycle;
    }

    long appendPosition() {
        return appendPosition;
    }

    /** The index of the last record appended by any process, or -1 if the spool is empty. */
    public long lastIndex() {
        long last = queue.lastIndex();
        return last < 0 ? -1 : last;
    }

    /** Bytes of the spool's files, their length ({@link SpoolDisk#lengthBytes}): what max_bytes bounds. */
    public long diskBytes() {
        return SpoolDisk.lengthBytes(dir, DEAD_LETTER_DIR);
    }

    /** Bytes the spool's files take on disk ({@link SpoolDisk#allocatedBytes}). */
    public long allocatedBytes() {
        return SpoolDisk.allocatedBytes(dir, DEAD_LETTER_DIR);
    }

    /** Forces the newest roll files to the device ({@link SpoolDisk#syncNewest}), for spool.sync = interval. */
    public void syncFiles() throws IOException {
        SpoolDisk.syncNewest(dir.resolve("queue"));
    }

    /** The Chronicle queue: for this package only (nothing outside it touches Chronicle). */
    SingleChronicleQueue queue() {
        return queue;
    }

    /** Closes the appender and the queue; appends after this fail (the publisher stops them first). */
    @Override
    public void close() {
        appendLock.lock();
        try {
            if (pretoucher != null) {
                pretoucher.close();
                pretoucher = null;
            }
            if (appender != null) {
                appender.close();
                appender = null;
            }
        } finally {
            appendLock.unlock();
        }
        queue.close();
        clock.close();
        cycleMark.close();
    }
}
