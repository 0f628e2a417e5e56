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

/**
 * The right to forward one spool: an OS file lock on {@code forwarder.lock} in the spool directory, holding
 * the owner's process id. Exactly one forwarder tails a spool (several processes may append); a second one
 * is refused with the owner's pid. The OS drops the lock when its process dies, however it dies.
 */
public final class SpoolLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private SpoolLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static SpoolLock acquire(Path spoolDir) {
        Path file = spoolDir.resolve("forwarder.lock");
        FileChannel channel = null;
        try {
            channel = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            OwnerOnly.file(file);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
                channel.close();
                throw new ForwarderException("spool " + spoolDir + " is already being forwarded by process "
                        + (owner.isEmpty() ? "(unknown)" : owner) + " (lock " + file + "); only one forwarder"
                        + " may tail a spool: stop that one, or give this one another spool.dir");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return new SpoolLock(channel, lock);
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
        lock.release();
        channel.close();
    }
}
