package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The forwarder's checkpoint: the spool index up to which every record is acknowledged by Kafka (or
 * dead-lettered). After a restart, forwarding resumes right after it.
 *
 * <p>It lives in a small memory-mapped file, so {@link #advance} is a couple of stores: the page cache holds
 * it the moment it is written, so it survives a crash of the process at any instant. {@link #force()}
 * (periodic, and at close) also makes it survive a crash of the operating system.
 *
 * <p>A store can be torn by a power loss, so the file holds two slots, written alternately; each has the
 * index and a CRC-32C of it, and reading takes the highest index among the valid slots:
 *
 * <pre>
 *   offset 0: slot A  [ index i64 | crc32c(index) i32 | pad i32 ]
 *   offset 16: slot B [ index i64 | crc32c(index) i32 | pad i32 ]
 * </pre>
 *
 * {@link #advance} only moves forward, so between rewinds the highest valid slot is the latest complete
 * write; {@link #rewindTo} writes both slots and forces them, so after a rewind no older, higher slot can
 * come back. Not thread-safe: one forwarder thread advances it; any thread may {@link #read} a value that
 * is at most slightly stale.
 */
public final class Checkpoint implements AutoCloseable {

    /** No record acknowledged yet. */
    public static final long NONE = -1;

    private static final int SLOT = 16;
    private final FileChannel channel;
    private final MappedByteBuffer map;
    private volatile long value;
    private int nextSlot;

    public Checkpoint(Path file) throws IOException {
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        OwnerOnly.file(file);
        map = channel.map(FileChannel.MapMode.READ_WRITE, 0, 2 * SLOT);
        long a = slot(0);
        long b = slot(1);
        value = Math.max(a, b);
        nextSlot = a > b ? 1 : 0; // overwrite the older slot, A first in a new file
    }

    /** Reads a checkpoint file without opening it for writing; NONE if it does not exist. */
    public static long readFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            return NONE;
        }
        try (Checkpoint c = new Checkpoint(file)) {
            return c.read();
        }
    }

    public long read() {
        return value;
    }

    /** Reads the file again: for a process that watches another one's checkpoint (an appender). */
    public long reread() {
        value = Math.max(slot(0), slot(1));
        return value;
    }

    /** Moves the checkpoint to {@code index}; an index not above the current one is ignored. */
    public void advance(long index) {
        if (index <= value) {
            return;
        }
        int offset = nextSlot * SLOT;
        map.putLong(offset, index);
        map.putInt(offset + 8, crc(index));
        nextSlot ^= 1;
        value = index;
    }

    /**
     * Moves the checkpoint back to {@code index} and forces it: for a checkpoint found ahead of the spool
     * (records it covered were lost to an OS crash, and their indexes will be handed out again), and, with
     * {@code delivery = exactly_once}, for a local checkpoint ahead of the position Kafka committed (Kafka's is
     * the truth: the records after it are sent again).
     */
    public void rewindTo(long index) {
        for (int slot = 0; slot < 2; slot++) {
            map.putLong(slot * SLOT, index);
            map.putInt(slot * SLOT + 8, crc(index));
        }
        nextSlot = 0;
        value = index;
        force();
    }

    /** Forces the mapped file to the storage device. */
    public void force() {
        map.force();
    }

    @Override
    public void close() throws IOException {
        force();
        channel.close();
    }

    private long slot(int slot) {
        long index = map.getLong(slot * SLOT);
        int crc = map.getInt(slot * SLOT + 8);
        if (index == 0 && crc == 0) {
            return NONE; // a new file
        }
        return crc == crc(index) ? index : NONE;
    }

    private static int crc(long index) {
        CRC32C crc = new CRC32C();
        for (int i = 0; i < 8; i++) {
            crc.update((int) (index >>> (8 * i)) & 0xff);
        }
        return (int) crc.getValue();
    }
}
