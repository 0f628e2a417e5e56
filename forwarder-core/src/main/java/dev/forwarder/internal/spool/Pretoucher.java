package dev.forwarder.internal.spool;

import java.io.File;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Unsafe;

/**
 * Touches the pages of the current roll file ahead of the appender, on a thread of its own, so that the first
 * write into each page (a page fault; on file-backed mappings here also a periodic stall of about 20 ms every
 * 8 MB, in the file system) is paid off the request path. Chronicle's own pretoucher is in its enterprise
 * edition only.
 *
 * <p>How it cannot damage a record: each touch is an atomic compare-and-set of an aligned int from 0 to 0
 * through a mapping of the same file. Where the appender has written, the value is not 0 and nothing is
 * written; where it has not, 0 stays 0. Either way the page is faulted in for writing. The touches stay
 * within the file's length (Chronicle lengthens it a block at a time) and at most {@link #AHEAD} past the
 * last append, so a sparse roll file gets at most that much more disk than it would anyway.
 *
 * <p>Best effort: any failure (the file deleted, a full disk) stops touching that file, never the appends.
 */
final class Pretoucher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pretoucher.class);
    static final long AHEAD = 16L << 20;
    /** The most of a roll file mapped at once. */
    private static final long MAPPING = 256L << 20;

    private static final int PAGE = 4096;
    private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final Spool spool;
    private final Thread thread;
    private volatile boolean running = true;
    private int cycle = Integer.MIN_VALUE;
    private FileChannel channel;
    private long touchedUpTo;
    private MappedByteBuffer window;
    private long windowFrom;
    private long windowTo;

    Pretoucher(Spool spool) {
        this.spool = spool;
        this.thread = new Thread(this::run, "spool-pretouch-" + spool.dir().getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try {
                touch();
                LockSupport.parkNanos(PERIOD_NANOS); // a native call: a pending fault can surface here too
            } catch (Throwable e) {
                // e.g. an InternalError for a SIGBUS on a full disk: give this file up, the appender goes on
                LOG.debug("pretouching roll file of cycle {} stopped: {}", cycle, e.toString());
                closeChannel();
                cycle = spool.appendCycle(); // try again with the next roll file
                faultPending(); // and the park
            }
        }
        closeChannel();
    }

    private void touch() throws IOException {
        int current = spool.appendCycle();
        long position = spool.appendPosition();
        if (current == Integer.MIN_VALUE) {
            return; // nothing appended yet
        }
        if (current != cycle) {
            closeChannel();
            cycle = current;
            File file = RollFiles.fileFor(spool.queue(), current);
            channel = FileChannel.open(file.toPath(), StandardOpenOption.READ, StandardOpenOption.WRITE);
            touchedUpTo = position;
        }
        if (channel == null) {
            return;
        }
        long from = Math.max(touchedUpTo, position);
        long to = Math.min(position + AHEAD, channel.size());
        from = (from + PAGE - 1) / PAGE * PAGE;
        while (running && from < to && spool.appendCycle() == cycle) {
            if (window == null || from < windowFrom || from >= windowTo) {
                // One mapping for as much of the file as exists (at most MAPPING): mapped and unmapped once
                // per stretch of file, not once per pass (each unmap stops every thread for a TLB shoot-down).
                if (unmapWindow()) {
                    throw new IOException("a touch of roll file " + cycle + " faulted (its disk full?)");
                }
                windowFrom = from;
                windowTo = Math.min(from + MAPPING, channel.size());
                window = channel.map(FileChannel.MapMode.READ_WRITE, windowFrom, windowTo - windowFrom);
            }
            long end = Math.min(to, windowTo);
            for (long offset = from - windowFrom; offset + Integer.BYTES <= end - windowFrom; offset += PAGE) {
                INTS.compareAndSet(window, (int) offset, 0, 0);
            }
            from = end;
            touchedUpTo = from;
        }
    }

    /**
     * Unmaps the stretch of file mapped for touching, unless a touch's fault was still to be reported on this
     * thread: then the garbage collector unmaps it, on another thread, and this says so (true).
     */
    private boolean unmapWindow() {
        if (window == null) {
            return false;
        }
        MappedByteBuffer w = window;
        window = null;
        if (faultPending()) {
            return true;
        }
        unmap(w);
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

    /**
     * Closes the roll file. A touch of a page the disk could not back (SIGBUS) is reported by the JVM as an
     * InternalError at this thread's next native call, which can be this close: caught here too, or the
     * thread would die of it (seen on a full tmpfs).
     */
    private void closeChannel() {
        unmapWindow();
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException | InternalError e) {
                LOG.debug("closing the pretouched roll file: {}", e.toString());
            }
            channel = null;
        }
    }

    private static void unmap(MappedByteBuffer buffer) {
        try {
            UnmapHolder.UNSAFE.invokeCleaner(buffer);
        } catch (Throwable e) {
            // no access to Unsafe: the mapping goes with the buffer when it is collected
        }
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

    private static final class UnmapHolder {
        static final Unsafe UNSAFE = unsafe();

        private static Unsafe unsafe() {
            try {
                Field f = Unsafe.class.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                return (Unsafe) f.get(null);
            } catch (ReflectiveOperationException e) {
                return null;
            }
        }
    }
}
