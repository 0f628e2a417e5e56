package dev.forwarder.internal.spool;

import dev.forwarder.ForwarderException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The right to forward one spool: an OS file lock on {@code forwarder.lock} in the spool directory, holding
 * the owner's process id. Exactly one forwarder tails a spool (several processes may append); a second one
 * is refused with the owner's pid. The OS drops the lock when its process dies, however it dies.
 *
 * <p>Within one process the OS lock cannot tell holders apart, and POSIX drops it for the whole process as
 * soon as any descriptor of the file is closed: a second acquire that opened the file, found it locked and
 * closed it again would free the first holder's lock for every other process. So the spools this process
 * holds are also kept in a set, checked before the file is touched.
 */
public final class SpoolLock implements AutoCloseable {

    /** The lock files this process holds (real paths). */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private SpoolLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    public static SpoolLock acquire(Path spoolDir) {
        Path file = spoolDir.resolve("forwarder.lock");
        Path key = held(spoolDir);
        if (!HELD.add(key)) {
            throw refused(spoolDir, file, String.valueOf(ProcessHandle.current().pid()) + " (this process)");
        }
        try {
            return lock(spoolDir, file, key);
        } catch (RuntimeException e) {
            HELD.remove(key);
            throw e;
        }
    }

    /** The set's key for a spool: its directory's real path (a symbolic link or "." names the same spool). */
    private static Path held(Path spoolDir) {
        try {
            return spoolDir.toRealPath().resolve("forwarder.lock");
        } catch (IOException e) {
            return spoolDir.toAbsolutePath().normalize().resolve("forwarder.lock");
        }
    }

    private static ForwarderException refused(Path spoolDir, Path file, String owner) {
        return new ForwarderException("spool " + spoolDir + " is already being forwarded by process " + owner
                + " (lock " + file + "); only one forwarder may tail a spool: stop that one, or give this one"
                + " another spool.dir");
    }

    private static SpoolLock lock(Path spoolDir, Path file, Path key) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            OwnerOnly.file(file);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                // This process holds the file under another path (a bind mount): closing the channel would
                // drop that lock, so it stays open (one descriptor, until the process ends).
                throw refused(spoolDir, file, ProcessHandle.current().pid() + " (this process)");
            }
            if (lock == null) {
                // Another process holds it (this one does not: HELD said so), so closing is harmless here.
                String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
                channel.close();
                throw refused(spoolDir, file, owner.isEmpty() ? "(unknown)" : owner);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return new SpoolLock(key, channel, lock);
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            throw new ForwarderException("cannot lock spool " + spoolDir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
            channel.close();
        } finally {
            HELD.remove(key);
        }
    }
}
