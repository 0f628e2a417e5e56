package dev.forwarder.internal.publish;

import dev.forwarder.PublishResult;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Publishers that wait for Kafka ({@code async_writes = false}), and the truth about each one's record.
 *
 * <p>The forwarder tells every fate other than delivery ({@link #onFate}, {@link #onLost}) before the
 * checkpoint passes the record, then the checkpoint ({@link #onCheckpoint}). A waiter whose record the
 * checkpoint has passed gets that record's fate, or {@code ACKNOWLEDGED} when there was none. A publisher
 * registers only after its append returned, so the record may already be settled: the fates are kept
 * (bounded, the newest {@link #KEPT_FATES}) for such a late waiter, and it reads the checkpoint itself.
 */
public final class SyncWaiters {

    /** How many recent non-delivery fates are kept for waiters that register after the settlement. */
    static final int KEPT_FATES = 65_536;

    private final ConcurrentNavigableMap<Long, CompletableFuture<PublishResult.Status>> waiters =
            new ConcurrentSkipListMap<>();
    private final ConcurrentNavigableMap<Long, PublishResult.Status> fates = new ConcurrentSkipListMap<>();
    /** Ranges told lost: from → to (exclusive). */
    private final ConcurrentNavigableMap<Long, Long> lostRanges = new ConcurrentSkipListMap<>();

    private final AtomicInteger fateCount = new AtomicInteger();
    private final LongSupplier checkpoint;

    /** @param checkpoint reads the forwarder's checkpoint (any thread) */
    public SyncWaiters(LongSupplier checkpoint) {
        this.checkpoint = checkpoint;
    }

    /**
     * Waits until the record at {@code index} is settled, at most {@code timeoutMs}.
     *
     * @return its fate; {@code TIMED_OUT} if it was not settled in time (it stays in the spool)
     */
    public PublishResult await(long index, long timeoutMs) {
        CompletableFuture<PublishResult.Status> done = watch(index);
        try {
            PublishResult.Status status = done.get(timeoutMs, TimeUnit.MILLISECONDS);
            return new PublishResult(
                    status, index, status == PublishResult.Status.ACKNOWLEDGED ? null : detailOf(status));
        } catch (TimeoutException e) {
            return new PublishResult(
                    PublishResult.Status.TIMED_OUT,
                    index,
                    "not acknowledged by Kafka within " + timeoutMs
                            + " ms; the record stays in the spool and will be delivered");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new PublishResult(PublishResult.Status.TIMED_OUT, index, "interrupted while waiting for Kafka");
        } catch (ExecutionException e) {
            return new PublishResult(
                    PublishResult.Status.TIMED_OUT,
                    index,
                    String.valueOf(e.getCause().getMessage()));
        } finally {
            waiters.remove(index);
        }
    }

    /**
     * Registers interest in the fate of the record at {@code index}; the future completes when it is settled.
     * Call {@link #unwatch} when done waiting.
     */
    public CompletableFuture<PublishResult.Status> watch(long index) {
        CompletableFuture<PublishResult.Status> done = new CompletableFuture<>();
        waiters.put(index, done);
        if (checkpoint.getAsLong() >= index) {
            done.complete(fateOf(index));
        }
        return done;
    }

    public void unwatch(long index) {
        waiters.remove(index);
    }

    private static String detailOf(PublishResult.Status status) {
        return switch (status) {
            case DEAD_LETTERED -> "rejected by Kafka for good; moved to the dead-letter spool";
            case LOST ->
                "discarded unforwarded (spool full with on_full = drop_oldest, or a dead letter that"
                        + " could not be written)";
            case CORRUPT -> "found corrupt in the spool; skipped and quarantined";
            default -> null;
        };
    }

    /** Ends every wait: the forwarder is closing. Those records stay in the spool. */
    public void closeAll() {
        waiters.values()
                .forEach(w -> w.completeExceptionally(new IllegalStateException(
                        "the forwarder closed before Kafka acknowledged the record; it stays in the spool")));
    }

    private PublishResult.Status fateOf(long index) {
        PublishResult.Status fate = fates.get(index);
        if (fate != null) {
            return fate;
        }
        Map.Entry<Long, Long> range = lostRanges.floorEntry(index);
        return range != null && index < range.getValue()
                ? PublishResult.Status.LOST
                : PublishResult.Status.ACKNOWLEDGED;
    }

    /** Every record up to and including {@code cp} is settled. */
    public void onCheckpoint(long cp) {
        if (waiters.isEmpty()) {
            return;
        }
        for (Map.Entry<Long, CompletableFuture<PublishResult.Status>> w :
                waiters.headMap(cp, true).entrySet()) {
            w.getValue().complete(fateOf(w.getKey()));
        }
    }

    /** Record {@code index} was settled otherwise than by Kafka's acknowledgement (told before the checkpoint). */
    public void onFate(long index, PublishResult.Status fate) {
        if (fates.put(index, fate) == null && fateCount.incrementAndGet() > KEPT_FATES) {
            fates.pollFirstEntry();
            fateCount.decrementAndGet();
        }
    }

    /** The records in {@code [from, to)} were discarded unforwarded, except those told otherwise. */
    public void onLost(long from, long to) {
        if (to <= from) {
            return;
        }
        lostRanges.put(from, to);
        while (lostRanges.size() > 1024) {
            lostRanges.pollFirstEntry();
        }
    }
}
