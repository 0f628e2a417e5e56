package dev.forwarder.internal.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A 64-bit value in an 8-byte memory-mapped file, changed atomically by every process that maps it (a locked
 * instruction on the shared page): the appended-bytes counter, the roll clock's floor, the cycle mark.
 * Survives a process crash as of its last change, and an OS crash as of its last {@link #force}.
 */
final class SharedCounter implements AutoCloseable {

    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final FileChannel channel;
    private final MappedByteBuffer map;

    private SharedCounter(FileChannel channel, MappedByteBuffer map) {
        this.channel = channel;
        this.map = map;
    }

    static SharedCounter open(Path file) {
        try {
            FileChannel channel = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            OwnerOnly.file(file);
            return new SharedCounter(channel, channel.map(FileChannel.MapMode.READ_WRITE, 0, Long.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the spool's shared counter " + file, e);
        }
    }

    long get() {
        return (long) LONG.getVolatile(map, 0);
    }

    void add(long delta) {
        LONG.getAndAdd(map, 0, delta);
    }

    /** Raises the value to {@code value} unless it is already at least that (compare-and-set, any process). */
    void raiseTo(long value) {
        long current;
        do {
            current = get();
            if (current >= value) {
                return;
            }
        } while (!LONG.compareAndSet(map, 0, current, value));
    }

    /** Forces the value to the storage device (msync), for a user that must find it after an OS crash. */
    void force() {
        map.force();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to keep: the mapping stays valid until it is collected
        }
    }
}
