package dev.forwarder.internal.forward;

import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts each settled record once, by its fate, and moves the checkpoint over settled records: the books of
 * the forwarder, written once for both delivery modes. A record settles as delivered (Kafka acknowledged it,
 * or committed its transaction), corrupt (unreadable in the spool), dead-lettered (Kafka refused it for good:
 * written to the dead-letter spool) or lost (refused and the dead-letter spool could not take it, or
 * discarded unforwarded by {@code on_full = drop_oldest}). Waiting publishers and the metrics are told here.
 *
 * <p>Order: a fate other than delivery is told to {@link Settlements} before the checkpoint passes the record
 * ({@link #advance} comes after). Forwarder thread only; the counts may be read from any thread.
 */
final class Settler {

    private static final Logger LOG = LoggerFactory.getLogger(Settler.class);

    private final Spool spool;
    private final DeadLetters deadLetters;
    private final Checkpoint checkpoint;
    private final Settlements settlements;
    private final DeliveryObserver observer;
    private final Consumer<String> errors;
    private volatile long delivered;
    private volatile long deadLettered;
    private volatile long corrupt;
    private volatile long lost;
    private volatile long deadLettersExpired;

    /** @param errors told why a record was lost (the forwarder's last error) */
    Settler(
            Spool spool,
            DeadLetters deadLetters,
            Checkpoint checkpoint,
            Settlements settlements,
            DeliveryObserver observer,
            Consumer<String> errors) {
        this.spool = spool;
        this.deadLetters = deadLetters;
        this.checkpoint = checkpoint;
        this.settlements = settlements;
        this.observer = observer;
        this.errors = errors;
    }

    /** Kafka acknowledged (or committed) {@code records}; the metrics were told by the delivery, with the latency. */
    void countDelivered(int records) {
        delivered += records;
    }

    /** A corrupt record settles. */
    void countCorrupt() {
        corrupt++;
        observer.corrupt();
    }

    /** Record {@code index}, acknowledged, went with a roll file discarded before the checkpoint reached it. */
    void deliveredInDiscardedFile(long index) {
        delivered++;
        settlements.onFate(index, PublishResult.Status.ACKNOWLEDGED);
    }

    /**
     * The records in {@code [from, to)} went with a roll file discarded to make room ({@code on_full =
     * drop_oldest}); {@code lostCount} of them were not forwarded (the others were told otherwise already).
     */
    void discarded(long from, long to, long lostCount) {
        settlements.onLost(from, to);
        lost += lostCount;
        observer.lost(lostCount);
    }

    /**
     * Moves a record Kafka refused for good to the dead-letter spool, counted and told to a waiting
     * publisher; if the dead-letter spool cannot take it, it is counted lost with the reason.
     */
    void deadLetter(SpoolRecord.Entry entry, Exception error) {
        String reason = Failures.describe(error);
        String notWritten = deadLetters.write(entry, spool.sourceId(), reason);
        if (notWritten == null) {
            deadLettered++;
            observer.deadLettered();
            settlements.onFate(entry.index(), PublishResult.Status.DEAD_LETTERED);
            LOG.warn(
                    "record {} ({}) rejected by Kafka for good, moved to the dead-letter spool: {}",
                    entry.index(),
                    entry.type(),
                    reason);
            return;
        }
        lost++;
        observer.lost(1);
        settlements.onFate(entry.index(), PublishResult.Status.LOST);
        errors.accept(notWritten);
        LOG.error(
                "record {} ({}) rejected by Kafka for good ({}) and {}; counted as lost",
                entry.index(),
                entry.type(),
                reason,
                notWritten);
    }

    /** Dead letters older than {@code spool.dead_letter.retain} are deleted, and counted. */
    void expireDeadLetters(long nowMs) {
        long expired = deadLetters.expire(nowMs);
        if (expired > 0) {
            deadLettersExpired += expired;
            observer.deadLettersExpired(expired);
        }
    }

    /** Every record up to {@code index} is settled: the checkpoint moves there, and waiting publishers hear it. */
    void advance(long index) {
        checkpoint.advance(index);
        settlements.onCheckpoint(index);
    }

    long delivered() {
        return delivered;
    }

    long deadLettered() {
        return deadLettered;
    }

    long corrupt() {
        return corrupt;
    }

    long lost() {
        return lost;
    }
}
