package dev.forwarder.internal.spool;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.queue.impl.single.PrecreatedFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Does ahead of the clock what the first append of a roll cycle would otherwise do on the caller's thread: a
 * roll of an hourly spool took 5 - 6 ms in that append (RollAppendBenchmark), most of it the new file's first
 * writes (page faults into a file that did not exist) and the cycle mark's msync.
 *
 * <ul>
 *   <li><b>The roll file, pre-created.</b> Chronicle takes a file named {@code <cycle>.precreated} beside the
 *       queue's files, when there is one, as the cycle's roll file (it renames it to {@code <cycle>.cq4} and
 *       writes its header into it, as into a new file). This writes such a file, of zeros, its first
 *       {@link #ZEROS} bytes in the page cache and on the disk. A zero file is what Chronicle expects of a new
 *       file (its header goes in by compare-and-set of 0); it is written under a temporary name and renamed to
 *       its own only when whole and closed, so nothing of this class writes a file Chronicle has taken. It is
 *       not a roll file until taken: Chronicle lists {@code .cq4} files only, so the queue, its last index and
 *       every reader are as before. One left behind (the clock moved on without an append in its cycle) is
 *       deleted at the next cycle.
 *   <li><b>The cycle mark.</b> Raised above the cycle and forced to the disk ({@link Spool#markAhead}): an
 *       append to the cycle then finds it forced. After an OS crash, appends move on above the mark
 *       ({@link Spool#moveOnAfterRestart}), one cycle further than without this when the crash came in the
 *       minute before a roll: nothing else changes.
 * </ul>
 *
 * <p>For the current cycle when it has no roll file yet (the first append of a process, or after an idle hour),
 * and for the next one from {@link #LEAD} before the clock reaches it, or once the current file is half of
 * {@code roll_bytes} (a roll by size). A disk without room for it gets no file (the appends make their own).
 */
final class RollAhead {

    private static final Logger LOG = LoggerFactory.getLogger(RollAhead.class);
    /** Bytes of zeros written into a pre-created file: its header and indexes, and the first records. */
    static final int ZEROS = 1 << 20;
    /** How long before the clock reaches a cycle its file and mark are made. */
    static final long LEAD = TimeUnit.MINUTES.toMillis(1);

    private static final String PRECREATED = ".precreated";
    private static final String WRITING = ".precreating";

    private final Spool spool;
    private long readyUpTo = Long.MIN_VALUE; // guarded by this: the newest cycle made ready
    private long cleanedAt = Long.MIN_VALUE; // guarded by this: the cycle of the last clean-up

    RollAhead(Spool spool) {
        this.spool = spool;
    }

    /** One round: the current cycle, and the next when it is near; then stale files of past cycles. */
    synchronized void round(long room) {
        long now = spool.currentCycle();
        if (now != cleanedAt) {
            cleanedAt = now;
            deleteStale(now);
        }
        long upTo = nextIsNear(now) ? now + 1 : now;
        for (long c = Math.max(now, readyUpTo + 1); c <= upTo; c++) {
            prepare(c, room);
            readyUpTo = c;
        }
    }

    private boolean nextIsNear(long now) {
        long length = spool.queue().rollCycle().lengthInMillis();
        long left = spool.cycleStartMs(now + 1) - spool.nowMs();
        if (left <= Math.min(LEAD, length / 4)) {
            return true;
        }
        long rollBytes = spool.rollBytes();
        return rollBytes > 0 && spool.appendCycle() == now && spool.appendPosition() >= rollBytes / 2;
    }

    private void prepare(long cycle, long room) {
        File file = RollFiles.fileFor(spool.queue(), Math.toIntExact(cycle));
        File precreated = PrecreatedFiles.preCreatedFile(file);
        long rollBytes = spool.rollBytes();
        // No more than a quarter of a roll by size: a small max_bytes is not taken up by zeros.
        long bytes = Math.min(rollBytes > 0 ? Math.min(ZEROS, rollBytes / 4) : ZEROS, room) / 4096 * 4096;
        if (!file.exists() && !precreated.exists() && bytes > 0) {
            try {
                write(precreated.toPath(), bytes);
            } catch (IOException e) {
                // the disk filled meanwhile, say: this cycle's first append makes its file itself
                LOG.debug("cannot pre-create {}: {}", precreated, e.toString());
            }
        }
        spool.markAhead(cycle);
    }

    /** Zeros, written under a temporary name, renamed into place once closed. */
    private static void write(Path precreated, long bytes) throws IOException {
        // A name of this process's own: a file another process (appending to the same spool) is still writing
        // is never renamed into place by this one, and its writes never land in a file Chronicle has taken.
        String name = precreated.getFileName().toString().replace(PRECREATED, WRITING);
        Path writing =
                precreated.resolveSibling(name + "." + ProcessHandle.current().pid() + "." + System.nanoTime());
        try {
            try (FileChannel ch = FileChannel.open(
                    writing,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                ByteBuffer zeros = ByteBuffer.allocateDirect(64 << 10);
                for (long at = 0; at < bytes; ) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
                    at += ch.write(zeros, at);
                }
            }
            Files.move(writing, precreated, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(writing);
            throw e;
        }
    }

    /**
     * Deletes pre-created files of cycles before {@code now} (never taken: the clock passed them with no append),
     * of cycles whose roll file exists (another process made it first), and unfinished ones (a crash's, or another
     * process's: its rename then fails, and nothing is lost but that file).
     */
    private void deleteStale(long now) {
        File dir = spool.queue().file();
        String current = RollFiles.fileFor(spool.queue(), Math.toIntExact(now)).getName();
        String currentName = current.substring(0, current.length() - ".cq4".length());
        File[] files = dir.listFiles((d, name) -> name.endsWith(PRECREATED) || name.contains(WRITING));
        if (files == null) {
            return;
        }
        for (File f : files) {
            String name = f.getName();
            boolean stale;
            if (name.contains(WRITING)) {
                stale = true; // left by a crash, or another process's that is then not renamed: no harm
            } else {
                String cycleName = name.substring(0, name.length() - PRECREATED.length());
                stale = cycleName.length() == currentName.length() && cycleName.compareTo(currentName) < 0
                        || new File(dir, cycleName + ".cq4").exists();
            }
            if (stale) {
                try {
                    Files.deleteIfExists(f.toPath());
                } catch (NoSuchFileException e) {
                    // gone meanwhile
                } catch (IOException e) {
                    LOG.debug("cannot delete {}: {}", f, e.toString());
                }
            }
        }
    }
}
