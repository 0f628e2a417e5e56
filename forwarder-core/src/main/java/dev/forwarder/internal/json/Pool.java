package dev.forwarder.internal.json;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Writers kept from use to use (a {@link RecordWriter}, a {@link JsonTexts} writer): a few slots, each holding one
 * or nothing. A user takes one (or gets a new one when every slot is empty, under a burst of threads) and gives
 * it back; one nobody has room for is left to the GC. Not a thread-local: one virtual thread per call would make
 * a writer per call, and a pool of platform threads would keep one per thread for good. Takes and gives allocate
 * nothing.
 */
public final class Pool<T> {

    private final AtomicReferenceArray<T> slots;
    private final Supplier<T> factory;
    private final Consumer<T> onGive;

    /**
     * @param factory makes one when no slot holds any
     * @param onGive  readies one to be kept (lets a buffer grown for one large use go)
     */
    public Pool(Supplier<T> factory, Consumer<T> onGive) {
        this.slots =
                new AtomicReferenceArray<>(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
        this.factory = factory;
        this.onGive = onGive;
    }

    public T take() {
        int n = slots.length();
        int start = start(n);
        for (int i = 0; i < n; i++) {
            int slot = (start + i) % n;
            if (slots.get(slot) != null) {
                T kept = slots.getAndSet(slot, null);
                if (kept != null) {
                    return kept;
                }
            }
        }
        return factory.get();
    }

    public void give(T kept) {
        onGive.accept(kept);
        int n = slots.length();
        int start = start(n);
        for (int i = 0; i < n; i++) {
            if (slots.compareAndSet((start + i) % n, null, kept)) {
                return;
            }
        }
    }

    /** Where a thread starts looking: threads that run at once tend to meet different slots. */
    private static int start(int n) {
        return (System.identityHashCode(Thread.currentThread()) & Integer.MAX_VALUE) % n;
    }
}
