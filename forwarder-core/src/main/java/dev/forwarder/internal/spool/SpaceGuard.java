package dev.forwarder.internal.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the spool inside {@code spool.max_bytes} and away from a full disk, without a system call on the
 * request path.
 *
 * <p>On a full file system a memory-mapped write does not fail with ENOSPC: the JVM gets a fault
 * ({@code InternalError: a fault occurred in a recent unsafe memory access operation}), and later reads of
 * that page fault again. So the spool must refuse a record <em>before</em> the disk fills. A daemon thread
 * measures, every 100 ms, the length of the spool's files and the usable space of their file system;
 * {@link #admits} adds what was appended since and compares, in a few nanoseconds. A margin of one mapping
 * block (the most Chronicle touches ahead of a write) is kept free on the file system. Under
 * {@code max_bytes} the guard keeps room for what Chronicle adds to the files beyond the records themselves,
 * however late the next measurement: a block (it lengthens the current roll file a block at a time, ahead of
 * the data), and a block, its overlap (a quarter block) and Chronicle's header for every roll file the appends
 * since the last measurement may have opened (one, and one more for every {@code rollBytes} less that header
 * appended).
 *
 * <p>File lengths overstate what sparse roll files hold on disk, so the bound errs on the safe side. With
 * {@code spool.sync = interval} the same thread also forces the newest roll files to the device.
 */
public final class SpaceGuard implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpaceGuard.class);
    private static final long REFRESH_MS = 100;

    private final Spool spool;
    private final long maxBytes;
    private final long marginBytes;
    private final LongSupplier usableSpace;
    /**
     * Bytes appended to this spool by every process, a counter shared through a memory-mapped file
     * ({@code <spool>/appended-bytes}): each guard compares against what all writers appended since its own
     * last measurement, not only its own process's appends. Atomic across processes (a locked add on the
     * shared page).
     */
    private final SharedCounter appendedTotal;

    private volatile long appendedAtMeasure;
    private final Thread thread;
    private volatile long spoolBytes;
    private volatile long usableBytes;
    private volatile boolean running = true;
    private volatile boolean full;
    private final long syncIntervalNanos;
    private long lastSyncNanos = System.nanoTime();
    /** How the spool's size is measured: its files' lengths, or (dead letters) the disk they take. */
    private final LongSupplier measuredBytes;

    private final long refreshMs;
    /** The roll files' size bound ({@link Spool#rollBytes}), 0 for none. */
    private final long rollBytes;
    /** What a new roll file takes before a record is in it. */
    private final long newFileBytes;

    /**
     * @param syncIntervalMs with {@code spool.sync = interval}, how often the same thread forces the newest
     *                       roll files to the device; 0 for never
     */
    public SpaceGuard(Spool spool, long maxBytes, long marginBytes, long syncIntervalMs) throws IOException {
        this(
                spool,
                spool::diskBytes,
                REFRESH_MS,
                maxBytes,
                marginBytes,
                newRollFileBytes(marginBytes),
                syncIntervalMs,
                usableSpaceOf(Files.getFileStore(spool.dir())),
                true);
    }

    /** A new roll file's length before a record is in it: a mapping block and Chronicle's overlap (a quarter). */
    private static long newRollFileBytes(long blockBytes) {
        return blockBytes + blockBytes / 4;
    }

    private SpaceGuard(
            Spool spool,
            LongSupplier measuredBytes,
            long refreshMs,
            long maxBytes,
            long marginBytes,
            long newFileBytes,
            long syncIntervalMs,
            LongSupplier usableSpace,
            boolean background) {
        this.spool = spool;
        this.rollBytes = spool.rollBytes();
        this.newFileBytes = newFileBytes;
        this.measuredBytes = measuredBytes;
        this.refreshMs = refreshMs;
        this.syncIntervalNanos = TimeUnit.MILLISECONDS.toNanos(syncIntervalMs);
        this.maxBytes = maxBytes;
        this.marginBytes = marginBytes;
        this.usableSpace = usableSpace;
        this.appendedTotal = SharedCounter.open(spool.dir().resolve("appended-bytes"));
        measure();
        if (background) {
            this.thread = new Thread(this::run, "spool-space-" + spool.dir().getFileName());
            thread.setDaemon(true);
            thread.start();
        } else {
            this.thread = null;
        }
    }

    /**
     * A guard without its own thread, measured only when {@link #measure()} is called, over a free space the
     * caller decides: for the simulation, where every step must be the same in every run of a seed.
     */
    public static SpaceGuard measuredByCaller(Spool spool, long maxBytes, long marginBytes, LongSupplier usableSpace) {
        return new SpaceGuard(
                spool,
                spool::diskBytes,
                0,
                maxBytes,
                marginBytes,
                newRollFileBytes(marginBytes),
                0,
                usableSpace,
                false);
    }

    /**
     * The dead-letter spool's guard: {@code spool.dead_letter.max_bytes} against the disk its files really
     * take ({@link Spool#allocatedBytes}: a dead-letter file is mostly sparse, its length a mapping block
     * however few records it holds), measured every second by a thread of its own, with 1 MiB kept free.
     */
    public static SpaceGuard deadLetters(Spool spool, long maxBytes) throws IOException {
        return new SpaceGuard(
                spool,
                spool::allocatedBytes,
                1_000,
                maxBytes,
                1L << 20,
                1L << 20, // measured by the disk taken: a new file takes its first pages, not its length
                0,
                usableSpaceOf(Files.getFileStore(spool.dir())),
                true);
    }

    /**
     * Measures now if no thread of its own does ({@link #measuredByCaller}); a guard with a thread is fresh
     * enough already (the appends since its last measurement count).
     */
    public void refresh() {
        if (thread == null) {
            measure();
        }
    }

    /** The usable space of the file system that holds {@code dir}, measured at each call. */
    public static LongSupplier usableSpaceOf(Path dir) throws IOException {
        return usableSpaceOf(Files.getFileStore(dir));
    }

    private static LongSupplier usableSpaceOf(FileStore store) {
        return () -> {
            try {
                return store.getUsableSpace();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** A mapping block size that suits a bound and a disk: a sixteenth of the smaller, 1 MiB to 64 MiB. */
    public static long blockSizeFor(Path dir, long maxBytes) throws IOException {
        OwnerOnly.directory(dir);
        long usable = Files.getFileStore(dir).getUsableSpace();
        return Math.max(1L << 20, Math.min(64L << 20, Math.min(maxBytes, usable) / 16));
    }

    /** Whether a record of {@code bytes} fits under the bound and the disk's margin. Cheap: no I/O. */
    public boolean admits(int bytes) {
        long pending = appendedTotal.get() - appendedAtMeasure + bytes;
        return spoolBytes + pending + growthBeyond(pending) <= maxBytes && usableBytes - pending > marginBytes;
    }

    /**
     * How far past the appends a pretoucher may fault pages in ({@link Pretoucher}): a quarter of the usable
     * space beyond the margin, so that touches (which take disk in a sparse roll file at once, not when the
     * appender gets there) never eat the margin kept for Chronicle, even with a pretoucher in each of a few
     * processes. Near a full disk that is 0: a touch of a page the disk cannot back is a fault (SIGBUS), not an
     * error. The usable space is the lesser of the last measurement less what was appended since and the disk's
     * now (a statfs a call: the pretoucher asks every few milliseconds): a disk filled since the last measurement
     * by another process is not asked for room it no longer has (a fallocate over it takes the space left before
     * it fails, for a moment on tmpfs, for good on ext4). 0 when the disk cannot be read.
     */
    public long roomToTouch() {
        long pending = appendedTotal.get() - appendedAtMeasure;
        long usableNow;
        try {
            usableNow = usableSpace.getAsLong();
        } catch (RuntimeException e) {
            return 0;
        }
        return Math.max(0, (Math.min(usableBytes - pending, usableNow) - marginBytes) / 4);
    }

    /**
     * Room Chronicle takes at the start of every roll file before its first record (its header, the index of
     * indexes and the first index array: about 70 KiB with the hourly and daily cycles), kept generously.
     */
    static final long FILE_HEADER_BYTES = 256L << 10;

    /**
     * The most the files can have grown by, beyond {@code pending} bytes of records appended since the last
     * measurement: the current roll file lengthened by a block ahead of its data, and, for each roll those
     * appends may have caused, a new file of a block and its overlap with Chronicle's header in it. A roll
     * comes from the clock or from the current file reaching rollBytes (one, however little was appended),
     * and then one more for every rollBytes less the header appended, since a file's records start after its
     * header: measured just before a roll, one file's worth of records less the header ended two files, and
     * three full files and a fourth made 17 blocks of a 16-block bound (seen in CI, 53.7 MB over 48 MiB).
     */
    private long growthBeyond(long pending) {
        long header = rollBytes > 0 ? Math.min(FILE_HEADER_BYTES, rollBytes / 4) : 0;
        long rolls = 1 + (rollBytes > 0 ? pending / (rollBytes - header) : 0);
        return marginBytes + rolls * (newFileBytes + header);
    }

    /**
     * Takes room for {@code bytes} about to be appended, if it fits: counted as appended at once, so that no
     * other batch takes it meanwhile (an append that then fails is forgotten at the next measurement). The
     * caller does not call {@link #appended} for these bytes.
     */
    public synchronized boolean reserve(int bytes) {
        if (!admits(bytes)) {
            return false;
        }
        appendedTotal.add(bytes);
        return true;
    }

    /** Counts a record just appended, until the next measurement sees it. */
    public void appended(int bytes) {
        appendedTotal.add(bytes);
    }

    public long usableBytes() {
        return usableBytes;
    }

    public long spoolBytes() {
        return spoolBytes;
    }

    private void run() {
        while (running) {
            try {
                TimeUnit.MILLISECONDS.sleep(
                        syncIntervalNanos > 0
                                ? Math.max(1, Math.min(refreshMs, syncIntervalNanos / 1_000_000))
                                : refreshMs);
                measure();
                if (syncIntervalNanos > 0 && System.nanoTime() - lastSyncNanos >= syncIntervalNanos) {
                    spool.syncFiles();
                    lastSyncNanos = System.nanoTime();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | IOException e) {
                LOG.warn("cannot measure the spool's disk use", e);
            }
        }
    }

    /**
     * Measures the spool's files and the free space now. The background thread calls it every 100 ms; the
     * forwarder thread calls it before it discards a roll file, so that it acts on a fresh measurement.
     */
    public synchronized void measure() {
        long appendedBefore = appendedTotal.get(); // read first: an append in between is counted twice, never missed
        long bytes = measuredBytes.getAsLong();
        long usable = usableSpace.getAsLong();
        spoolBytes = bytes;
        usableBytes = usable;
        appendedAtMeasure = appendedBefore; // what was appended before the measurement is in it now
        boolean nowFull = !admits(0);
        if (nowFull != full) {
            full = nowFull;
            if (nowFull) {
                LOG.warn(
                        "spool {} is full ({} MiB of max_bytes {} MiB; {} MiB usable on its disk, {} MiB kept"
                                + " free): new records are refused",
                        spool.dir(),
                        bytes >> 20,
                        maxBytes >> 20,
                        usable >> 20,
                        marginBytes >> 20);
            } else {
                LOG.info("spool {} has room again", spool.dir());
            }
        }
    }

    @Override
    public void close() {
        appendedTotal.close();
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
