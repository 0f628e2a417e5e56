package dev.forwarder.internal.publish;

import dev.forwarder.internal.json.RecordWriter;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * The typed publishes' {@link RecordWriter}s: a few slots, each holding a writer or nothing. A publish takes
 * one (or makes one when every slot is empty, under a burst of threads) and gives it back; a writer nobody has
 * room for is left to the GC. Not a thread-local: one virtual thread per publish would make a writer per
 * publish, and a pool of platform threads would keep one per thread for good. Takes and gives allocate nothing.
 */
final class WriterPool {

    private final AtomicReferenceArray<RecordWriter> slots;
    private final Supplier<RecordWriter> factory;

    WriterPool(int slots, Supplier<RecordWriter> factory) {
        this.slots = new AtomicReferenceArray<>(slots);
        this.factory = factory;
    }

    /** One for every two threads that can run at once, at least four. */
    static int defaultSlots() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    RecordWriter take() {
        int n = slots.length();
        int start = start(n);
        for (int i = 0; i < n; i++) {
            int slot = (start + i) % n;
            if (slots.get(slot) != null) {
                RecordWriter writer = slots.getAndSet(slot, null);
                if (writer != null) {
                    return writer;
                }
            }
        }
        return factory.get();
    }

    void give(RecordWriter writer) {
        writer.trim();
        int n = slots.length();
        int start = start(n);
        for (int i = 0; i < n; i++) {
            if (slots.compareAndSet((start + i) % n, null, writer)) {
                return;
            }
        }
    }

    /** Where a thread starts looking: threads that run at once tend to meet different slots. */
    private static int start(int n) {
        return (System.identityHashCode(Thread.currentThread()) & Integer.MAX_VALUE) % n;
    }
}
