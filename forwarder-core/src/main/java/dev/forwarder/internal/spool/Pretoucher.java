package dev.forwarder.internal.spool;

import java.io.File;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import net.openhft.chronicle.bytes.MappedBytes;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.posix.PosixAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Touches the pages of the current roll file ahead of the appender, on a thread of its own, so that the first
 * write into each page (a page fault; on file-backed mappings here also a periodic stall of about 20 ms every
 * 8 MB, in the file system) is paid off the request path. Chronicle's own pretoucher is in its enterprise
 * edition only.
 *
 * <p>It touches through Chronicle's own mapping of the roll file (the queue's {@code MappedFile} for the cycle: the
 * chunks the appender writes through), holding each chunk it touched until the appends are past it, so that the
 * appender's page tables are filled ahead and its writes rarely fault: back to back, a few hundred faults in 4 s,
 * as many as with no pretoucher at all. Through a mapping of its own (as it did until 2026-12-01) the pages were
 * in the page cache but not in the appender's mapping, which then took about 11,000 faults in 4 s, 50 times as
 * many as with no pretoucher (this kernel maps a large stretch at a fault of its own): back to back, publish's
 * p99 8.3 - 9.3 µs against 3.0 - 3.7 µs without a pretoucher (README). It maps no chunk
 * past the file's length (Chronicle would lengthen the file for it), so the first appends of each chunk may run
 * ahead of it for a round.
 *
 * <p>How it cannot damage a record: each touch is an atomic compare-and-set of an aligned int from 0 to 0
 * through a mapping of the same file. Where the appender has written, the value is not 0 and nothing is
 * written; where it has not, 0 stays 0. Either way the page is faulted in for writing. The touches stay
 * within the file's length (Chronicle lengthens it a block at a time) and at most {@link #AHEAD} past the
 * last append, so a sparse roll file gets at most that much more disk than it would anyway.
 *
 * <p>A touch takes disk at once, and a touch of a page the disk cannot back is a fault (SIGBUS): in compiled
 * code the JVM reports it as an InternalError some time later, but in the interpreter (a process's first
 * touches) the compare-and-set runs inside the VM and the fault ends the process (seen in a test: "SIGBUS in
 * Unsafe_CompareAndSetInt"). So no page is touched before the file system has allocated it:
 * {@code fallocate(FALLOC_FL_KEEP_SIZE)} over the stretch first, which fails with ENOSPC instead of faulting,
 * and the file's length is unchanged. Touches also go no further ahead than the space guard's room for them
 * ({@link SpaceGuard#roomToTouch}: none near a full disk), so that they never take the margin kept for
 * Chronicle. Where {@code fallocate} is not to be had (no native access, a file system without it), nothing
 * is touched: the appends pay their own page faults, as they would without this class.
 *
 * <p>Any other failure (the file deleted) is counted and that file given up; never the appends, and the thread
 * lives on.
 *
 * <p>Each round also makes the next roll cycle's file and mark ahead of the clock ({@link RollAhead}), so that
 * a roll is not paid by a publish either (whether or not pages can be touched here).
 */
final class Pretoucher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pretoucher.class);
    static final long AHEAD = 16L << 20;

    private static final int PAGE = 4096;
    private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final Spool spool;
    private final LongSupplier roomToTouch;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long failures;
    private volatile long rounds;
    private int cycle = Integer.MIN_VALUE;
    private int fd = -1; // the cycle's roll file, for fallocate
    private volatile String notTouching; // why this thread stopped touching altogether, or null
    private long touchedUpTo;
    private final ReferenceOwner owner = ReferenceOwner.temporary("spool-pretouch");
    private SingleChronicleQueueStore store; // the cycle's store, from the queue: its MappedFile is the appender's
    private MappedBytes bytes; // the store's bytes, made once a cycle (each call of store.bytes() makes one more)
    private final ArrayDeque<MappedBytesStore> chunks = new ArrayDeque<>(); // held by owner, oldest first

    Pretoucher(Spool spool, LongSupplier roomToTouch) {
        this.spool = spool;
        this.roomToTouch = roomToTouch;
        this.thread = new Thread(this::run, "spool-pretouch-" + spool.dir().getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * A fault is reported wherever this thread next makes a native call or meets a safepoint, so the handler only
     * notes it; giving the file up happens at the top of the next round, inside the guarded block, where a
     * second report is caught like the first.
     */
    private void run() {
        boolean faulted = false;
        while (running) {
            try {
                if (faulted) {
                    faulted = false;
                    giveUpFile();
                }
                long room = roomToTouch.getAsLong(); // a statfs: read once a round
                spool.rollAhead(room);
                if (notTouching == null) {
                    touch(room);
                }
                rounds++;
                LockSupport.parkNanos(PERIOD_NANOS); // a native call: a pending fault can surface here too
            } catch (Throwable e) {
                faulted = true;
                failures++;
            }
        }
        try {
            closeFile();
        } catch (Throwable e) {
            // a last fault's report while closing: the thread ends anyway
        }
    }

    /** After a failure (e.g. an InternalError for a SIGBUS): this file is given up, the appender goes on. */
    private void giveUpFile() {
        LOG.debug("pretouching roll file of cycle {} stopped after a failure", cycle);
        closeFile();
        cycle = spool.appendCycle(); // try again with the next roll file
        faultPending(); // and the park
    }

    /** Failures seen (a touch's fault, a file gone): for tests. */
    long failures() {
        return failures;
    }

    /** Why this thread stopped touching altogether (no fallocate), or null: for tests. */
    String notTouching() {
        return notTouching;
    }

    /** Rounds of touching done: for tests. */
    long rounds() {
        return rounds;
    }

    /** Touches the pages ahead of the appends, as far as {@code room} (bytes) allows. */
    private void touch(long room) throws IOException {
        int current = spool.appendCycle();
        long position = spool.appendPosition();
        if (current == Integer.MIN_VALUE) {
            return; // nothing appended yet
        }
        if (current != cycle) {
            closeFile();
            cycle = current;
            fd = Posix.open(RollFiles.fileFor(spool.queue(), current));
            store = spool.queue().storeForCycle(current, spool.queue().epoch(), false, null);
            bytes = store == null ? null : store.bytes();
            touchedUpTo = position;
        }
        if (bytes == null) {
            return;
        }
        releaseChunksBefore(position);
        MappedFile mapped = bytes.mappedFile();
        long length = mapped.actualSize();
        long from = Math.max(touchedUpTo, position);
        long to = Math.min(position + Math.min(AHEAD, room), length);
        from = (from + PAGE - 1) / PAGE * PAGE;
        if (from >= to || !allocate(from, to)) {
            return;
        }
        while (running && from < to && spool.appendCycle() == cycle) {
            MappedBytesStore chunk = chunks.peekLast();
            if (chunk == null || from < chunk.start() || from >= chunk.safeLimit()) {
                // Chronicle lengthens the file to hold a chunk it maps (and its overlap): a chunk past the file's
                // length waits for the appender to get there, so that the file grows as it would without this.
                long chunkEnd = (from / mapped.chunkSize() + 1) * mapped.chunkSize() + mapped.overlapSize();
                if (chunkEnd > length) {
                    return;
                }
                chunk = mapped.acquireByteStore(owner, from);
                chunks.addLast(chunk);
            }
            long end = Math.min(to, chunk.safeLimit());
            for (; from + Integer.BYTES <= end; from += PAGE) {
                chunk.compareAndSwapInt(from, 0, 0);
            }
            from = Math.max(from, end);
            touchedUpTo = from;
        }
    }

    /** Lets go of the chunks the appends are past (the appender holds the one it writes in itself). */
    private void releaseChunksBefore(long position) {
        while (chunks.size() > 1 && chunks.peekFirst().safeLimit() <= position) {
            chunks.pollFirst().release(owner);
        }
    }

    /**
     * Has the file system allocate {@code [from, to)} of the roll file, without changing its length, so that
     * touching it cannot fault. False if it cannot: the disk is full (touch nothing now, try again next round),
     * or fallocate is not to be had here (touch nothing ever: {@link #notTouching}).
     */
    private boolean allocate(long from, long to) {
        int errno = Posix.allocate(fd, from, to - from);
        if (errno == 0) {
            return true;
        }
        if (errno != Posix.ENOSPC) {
            notTouching = "fallocate of roll file " + cycle + " failed: " + Posix.describe(errno);
            LOG.info(
                    "spool {}: the pages ahead of the appends are not touched in advance ({}); appends fault"
                            + " their pages in themselves",
                    spool.dir(),
                    notTouching);
        }
        return false;
    }

    /**
     * Lets go of every chunk held and of the cycle's store, unless a touch's fault was still to be reported on
     * this thread: then they are left to the queue's close, and this says so (true). Letting go of a chunk no
     * one else holds unmaps it, a native call that would report the fault inside Chronicle.
     */
    private boolean releaseAll() {
        if (chunks.isEmpty() && store == null) {
            return false;
        }
        if (faultPending()) {
            chunks.clear();
            bytes = null;
            store = null;
            return true;
        }
        while (!chunks.isEmpty()) {
            chunks.pollFirst().release(owner);
        }
        if (bytes != null) {
            bytes.releaseLast();
            bytes = null;
        }
        if (store != null) {
            spool.queue().closeStore(store);
            store = null;
        }
        return false;
    }

    /**
     * Parks a moment, and says whether that reported a fault of an earlier touch. The JVM reports a touch of a
     * page the disk could not back (SIGBUS) as an InternalError at the thread's next native call, and more
     * than one touch can fault before the first is reported. Were that call the unmap inside the JDK's
     * Cleaner, the Cleaner would exit the JVM ("Cleaner terminated abnormally": a CI run on a full tmpfs ended
     * so); this park is that native call, made first.
     */
    private static boolean faultPending() {
        try {
            LockSupport.parkNanos(PERIOD_NANOS);
            return false;
        } catch (InternalError e) {
            LOG.debug("a fault of an earlier touch: {}", e.toString());
            return true;
        }
    }

    /** Lets go of the roll file: its chunks, its store and the descriptor for fallocate. */
    private void closeFile() {
        releaseAll();
        if (fd >= 0) {
            Posix.close(fd);
        }
        fd = -1;
    }

    /** Stops the thread (it unmaps and closes what it holds) and waits for it briefly. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * open, fallocate and close through Chronicle's POSIX binding (JNR, already loaded for Chronicle), which
     * reports what failed rather than throwing, so that a missing binding reads as "not to be had here".
     */
    private static final class Posix {
        private static final int O_RDWR = 2;
        private static final int FALLOC_FL_KEEP_SIZE = 1;
        static final int ENOSPC = 28;

        /** What {@link #open} returns where there is no native binding ({@link #allocate} then says so). */
        static final int NO_NATIVE = -2;
        /** fallocate failed without an errno. */
        static final int NO_ERRNO = -3;

        /**
         * The file opened for fallocate, or {@link #NO_NATIVE}.
         *
         * @throws IOException the file cannot be opened (deleted meanwhile, say): a failure of this file only
         */
        static int open(File file) throws IOException {
            PosixAPI posix;
            int fd;
            try {
                posix = PosixAPI.posix();
                fd = posix.open(file.getPath(), O_RDWR, 0);
            } catch (RuntimeException | LinkageError e) {
                return NO_NATIVE;
            }
            if (fd < 0) {
                throw new IOException("cannot open " + file + ": " + posix.strerror(posix.lastError()));
            }
            return fd;
        }

        /** 0 once allocated, else the errno ({@link #ENOSPC}: the disk is full), or {@link #NO_NATIVE}. */
        static int allocate(int fd, long offset, long length) {
            if (fd == NO_NATIVE) {
                return NO_NATIVE;
            }
            try {
                PosixAPI posix = PosixAPI.posix();
                if (posix.fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length) == 0) {
                    return 0;
                }
                int errno = posix.lastError();
                return errno != 0 ? errno : NO_ERRNO; // never read as allocated
            } catch (RuntimeException | LinkageError e) {
                return NO_NATIVE;
            }
        }

        /** What an {@link #allocate} result means, for the log. */
        static String describe(int errno) {
            if (errno == NO_NATIVE) {
                return "no native open or fallocate";
            }
            if (errno == NO_ERRNO) {
                return "failed without an errno";
            }
            try {
                return PosixAPI.posix().strerror(errno) + " (errno " + errno + ")";
            } catch (RuntimeException | LinkageError e) {
                return "errno " + errno;
            }
        }

        static void close(int fd) {
            try {
                PosixAPI.posix().close(fd);
            } catch (RuntimeException | LinkageError e) {
                // nothing held: the descriptor goes with the process
            }
        }
    }
}
