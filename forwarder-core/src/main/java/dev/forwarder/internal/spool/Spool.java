package dev.forwarder.internal.spool;

import dev.forwarder.DataType;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
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
    private volatile UUID sourceId;
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
        this.sourceId = readOrCreateSourceId(dir);
        this.clock =
                new RollClock(dir, settings.wallClock() != null ? settings.wallClock() : System::currentTimeMillis);
        this.cycleMark = SharedCounter.open(dir.resolve("cycle-mark"));
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

    private long cycleStartMs(long cycle) {
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
        return sourceId;
    }

    /**
     * From now on, payloads are sealed with the active key of {@code keys}, and records sealed with any of its
     * keys are opened when read ({@code spool.encryption}); null: plain. Set it before appending or reading.
     */
    public Spool sealWith(SpoolKeys keys) {
        this.keys = keys;
        return this;
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
        SpoolKeys sealing = keys;
        appendLock.lock();
        try {
            ExcerptAppender a = appender;
            if (a == null) {
                a = queue.createAppender();
                // Used by whichever thread holds the lock: Chronicle's check that one thread uses it is off.
                a.singleThreadedCheckDisabled(true);
                appender = a;
            }
            markCycle(currentCycle()); // before the first append to a cycle, whatever the sync policy
            try (DocumentContext dc = a.writingDocument()) {
                Bytes<?> bytes = dc.wire().bytes();
                writer.encode(bytes, type, appendTimeMs, keySource, keyOffset, keyLength, payload, note, sealing);
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
     * Keeps the cycle mark above {@code cycle}, and forced to the disk, before a record is appended to it (one
     * msync a roll cycle; a volatile read otherwise).
     */
    private void markCycle(long cycle) {
        if (cycle + 1 > cycleMark.get()) {
            cycleMark.raiseTo(cycle + 1);
            cycleMark.force();
        }
    }

    /** What an append does before it writes, for tests that write a record of their own (SpoolDamage). */
    void markBeforeAppend() {
        markCycle(currentCycle());
    }

    /** The cycle an append would go to now. */
    private long currentCycle() {
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
        Path file = dir.resolve("boot-id");
        String last = Files.exists(file)
                ? Files.readString(file, StandardCharsets.UTF_8).trim()
                : null;
        if (bootId != null && bootId.equals(last)) {
            return -1;
        }
        int newest = queue.lastCycle();
        long above = Math.max(cycleMark.get(), newest == Integer.MIN_VALUE || newest < 0 ? 0 : newest + 1L);
        if (above > 0) {
            clock.atLeast(cycleStartMs(above));
        }
        if (bootId != null) {
            writeForced(file, bootId);
        }
        return above > 0 ? above : -1;
    }

    /** What {@link #prepareForAppends} did. */
    public record Prepared(CopiedFrom copiedFrom, long movedToCycle) {}

    /**
     * What a process does to the spool it opened before its first append, so that no record identity is ever
     * handed out twice: the forwarding process takes a source id of its own if this is a copy
     * ({@link #adoptIfCopied}), and every appending process moves appends on after a restart of the machine
     * ({@link #moveOnAfterRestart}). The product's open and the simulations call this one method.
     *
     * @param forwarding whether this process forwards the spool (holds its lock)
     * @param bootId     this boot's id, {@link #bootId()} but in simulations
     */
    public Prepared prepareForAppends(boolean forwarding, String bootId) throws IOException {
        CopiedFrom copy = forwarding ? adoptIfCopied() : null;
        return new Prepared(copy, moveOnAfterRestart(bootId));
    }

    /** The spool this one was copied from, as {@link #adoptIfCopied} found it. */
    public record CopiedFrom(UUID sourceId, long lastIndex) {}

    /**
     * For the forwarding process, at open, before anything is forwarded: whether this directory is the one the
     * spool lives in (its file system's device and inode number, kept in {@code <dir>/home}). A copy (a backup
     * restored, {@code cp -a} or rsync to another directory or disk) takes a source id of its own: else its
     * records would share (source_id, spool_index) with the original's, and with {@code exactly_once} its
     * producer (the same transactional id) would fence the original's. The original's id and the copy's last
     * index are kept in {@code <dir>/copied-from}, so that exactly_once goes on after what the original
     * committed of the records the copy shares with it. A spool moved within its file system is not a copy.
     *
     * @return what the copy was made from, or null when this is no copy (or the file system has no inodes)
     */
    public CopiedFrom adoptIfCopied() throws IOException {
        String here = home(dir);
        if (here == null) {
            return null;
        }
        Path file = dir.resolve("home");
        String recorded = Files.exists(file)
                ? Files.readString(file, StandardCharsets.UTF_8).trim()
                : null;
        CopiedFrom from = null;
        if (recorded != null && !recorded.equals(here)) {
            from = new CopiedFrom(sourceId, lastIndex());
            writeForced(dir.resolve("copied-from"), from.sourceId() + " " + from.lastIndex());
            newSourceId();
        }
        if (!here.equals(recorded)) {
            writeForced(file, here);
        }
        return from;
    }

    /** What {@link #adoptIfCopied} kept of the spool this one was copied from, or null. */
    public CopiedFrom copiedFrom() {
        Path file = dir.resolve("copied-from");
        try {
            if (!Files.exists(file)) {
                return null;
            }
            String[] parts =
                    Files.readString(file, StandardCharsets.UTF_8).trim().split(" ");
            return new CopiedFrom(UUID.fromString(parts[0]), Long.parseLong(parts[1]));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The directory's device and inode number, or null where the file system does not say. */
    private static String home(Path dir) {
        try {
            return Files.getAttribute(dir, "unix:dev") + ":" + Files.getAttribute(dir, "unix:ino");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Writes a small file whole (a temporary file renamed over it), forced to the disk with its directory. */
    private void writeForced(Path file, String content) throws IOException {
        Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        Files.writeString(temp, content + "\n", StandardCharsets.UTF_8);
        force(temp);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        force(dir);
    }

    /**
     * Whether every record appended from now on gets an index above {@code index}: its cycle is before the
     * one the roll clock reads now (after {@link #moveOnAfterRestart} moved on, say).
     */
    public boolean appendsAbove(long index) {
        return queue.rollCycle().toCycle(index) < currentCycle();
    }

    /** This boot's id, or null where the system has none (not Linux). */
    public static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id"), StandardCharsets.US_ASCII)
                    .trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** fsync of a file or a directory (the directory's entries: a file created or renamed in it). */
    private static void force(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /**
     * Starts touching the pages ahead of this process's appends on a thread of its own ({@link Pretoucher}), so
     * that first-write page faults do not land on the request path. Idempotent; stopped by {@link #close}.
     */
    public void pretouch() {
        appendLock.lock();
        try {
            if (pretoucher == null) {
                pretoucher = new Pretoucher(this);
            }
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

    /**
     * Forces the spool's newest roll files to the storage device (fsync: it writes the pages any process
     * dirtied through its mapping). For {@code spool.sync = interval}, from a background thread.
     */
    public void syncFiles() throws IOException {
        Path queueDir = dir.resolve("queue");
        List<Path> newest;
        try (Stream<Path> files = Files.list(queueDir)) {
            newest = files.filter(p -> p.toString().endsWith(".cq4"))
                    .sorted(Comparator.reverseOrder())
                    .limit(2)
                    .toList();
        }
        for (Path file : newest) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(false);
            } catch (NoSuchFileException deleted) {
                // retention deleted it meanwhile: nothing to force
            }
        }
    }

    /** What {@link #scan} shows of each record. */
    public interface Visitor {
        /** @return false to stop */
        boolean record(SpoolRecord.Entry entry);

        /** A record that cannot be read: corrupt, or sealed with a key not at hand (the reason says which). */
        void corrupt(long index, String reason);
    }

    /**
     * The keys that sealed the records after {@code afterIndex} ({@link Checkpoint#NONE}: all), with how many
     * each sealed; plain records under {@link SpoolRecord#NOT_SEALED}. Reads only each record's header.
     */
    public Map<Long, Long> sealingKeysAfter(long afterIndex) {
        Map<Long, Long> counts = new TreeMap<>();
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (afterIndex != Checkpoint.NONE && !tailer.moveToIndex(afterIndex)) {
                tailer.toStart();
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return counts;
                    }
                    if (afterIndex != Checkpoint.NONE && dc.index() <= afterIndex) {
                        continue;
                    }
                    counts.merge(SpoolRecord.sealingKey(dc.wire().bytes()), 1L, Long::sum);
                }
            }
        }
    }

    /**
     * Visits every record from the start of the spool, in order, reading only (no quarantine, no
     * checkpoint): for tools that look at a spool whether a forwarder runs on it or not.
     */
    public void scan(Visitor visitor) {
        try (ExcerptTailer tailer = queue.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return;
                    }
                    SpoolRecord.Entry entry;
                    try {
                        entry = SpoolRecord.decode(dc.index(), dc.wire().bytes(), keys);
                    } catch (SpoolRecord.CorruptRecordException | SpoolRecord.UnknownKeyException e) {
                        visitor.corrupt(dc.index(), e.getMessage());
                        continue;
                    }
                    if (!visitor.record(entry)) {
                        return;
                    }
                }
            }
        }
    }

    /** The index of the last record appended by any process, or -1 if the spool is empty. */
    public long lastIndex() {
        long last = queue.lastIndex();
        return last < 0 ? -1 : last;
    }

    /**
     * How many indexes lie after {@code last} up to and including {@code ahead}, for a checkpoint found ahead
     * of the spool: exact within one roll cycle (sequence numbers are dense); across cycles, the records of
     * the checkpoint's cycle up to it (the earlier cycles' share cannot be known any more).
     */
    public long indexGap(long last, long ahead) {
        RollCycle rc = queue.rollCycle();
        if (last >= 0 && rc.toCycle(last) == rc.toCycle(ahead)) {
            return ahead - last;
        }
        return rc.toSequenceNumber(ahead) + 1;
    }

    /** Records after {@code checkpoint} (exclusive) up to the last one appended. */
    public long countAfter(long checkpoint) {
        long last = lastIndex();
        if (last < 0 || last <= checkpoint) {
            return 0;
        }
        long first = queue.firstIndex();
        long from = checkpoint < first ? first : checkpoint;
        boolean fromIsAfter = checkpoint < first;
        RollCycle rc = queue.rollCycle();
        int checkpointCycle = rc.toCycle(from);
        if (!fromIsAfter && !RollFiles.fileFor(queue, checkpointCycle).exists()) {
            // Chronicle counts only from a cycle that has a file: the checkpoint's is gone (an OS crash took it,
            // or it was discarded), so count from the next file's first record.
            Long next = new TreeSet<>(queue.listCyclesBetween(queue.firstCycle(), queue.lastCycle()))
                    .higher((long) checkpointCycle);
            if (next == null) {
                return 0;
            }
            from = rc.toIndex(next.intValue(), 0);
            fromIsAfter = true;
        }
        long count = queue.countExcerpts(from, last) + 1; // countExcerpts(from, to): to exclusive
        return fromIsAfter ? count : count - 1;
    }

    /**
     * The append time (epoch ms) of the first record after {@code checkpoint}, or -1 if there is none.
     * Reads with a tailer of its own: any thread may call it.
     */
    public long appendTimeAfter(long checkpoint) {
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (checkpoint >= 0 && !tailer.moveToIndex(checkpoint)) {
                tailer.toStart();
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return -1;
                    }
                    if (dc.index() <= checkpoint) {
                        continue;
                    }
                    return SpoolRecord.appendTimeOf(dc.wire().bytes());
                }
            }
        }
    }

    /**
     * Bytes of the spool's files (their length; roll files are sparse, so this can exceed what the disk holds).
     * A file deleted during the walk counts 0 (File.length of a missing file) and does not end the walk: a
     * measurement must never come out as "nothing", or the max_bytes check would be off for a cycle. A spool
     * inside this one (the dead-letter spool: {@code dead-letter}, and redrive's {@code dead-letter.*}) is not
     * counted: it has a bound of its own.
     */
    public long diskBytes() {
        long total = 0;
        ArrayDeque<File> dirs = new ArrayDeque<>();
        dirs.push(dir.toFile());
        while (!dirs.isEmpty()) {
            File[] files = dirs.pop().listFiles(); // null if the directory went away meanwhile
            if (files == null) {
                continue;
            }
            for (File f : files) {
                if (f.isDirectory()) {
                    if (!f.getName().startsWith(DEAD_LETTER_DIR)) {
                        dirs.push(f);
                    }
                } else {
                    total += f.length();
                }
            }
        }
        return total;
    }

    /**
     * Bytes the spool's files take on disk (what {@code du} reports: sparse files count what they hold, not
     * their length); their length ({@link #diskBytes}) if that cannot be measured. Starts a process: for the
     * dead-letter spool's guard, once a second.
     */
    public long allocatedBytes() {
        try {
            Process du = new ProcessBuilder("du", "-sk", dir.toString())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (du.waitFor() == 0) {
                return Long.parseLong(out.substring(0, out.indexOf('\t')).trim()) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // measured by length below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return diskBytes();
    }

    /**
     * Gives the spool a new source id, after the checkpoint was found ahead of the spool (an OS crash took
     * records that had been forwarded): the indexes of those records will be handed out again, and a new
     * source id keeps consumers' (source_id, spool_index) dedupe keys from colliding with the old ones.
     *
     * @return the new id
     */
    public UUID newSourceId() throws IOException {
        UUID id = UUID.randomUUID();
        writeForced(dir.resolve("source-id"), id.toString()); // on the disk before any record goes under it
        sourceId = id;
        return id;
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

    private static UUID readOrCreateSourceId(Path dir) throws IOException {
        Path file = dir.resolve("source-id");
        if (!Files.exists(file)) {
            Path temp = Files.createTempFile(dir, "source-id", ".tmp");
            Files.writeString(temp, UUID.randomUUID() + "\n", StandardCharsets.UTF_8);
            try {
                // link(2) fails if the name exists, atomically: of two racing processes exactly one wins,
                // and the file is never seen half-written.
                Files.createLink(file, temp);
            } catch (FileAlreadyExistsException e) {
                // another process won the race; use its id
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        return UUID.fromString(Files.readString(file, StandardCharsets.UTF_8).trim());
    }
}
