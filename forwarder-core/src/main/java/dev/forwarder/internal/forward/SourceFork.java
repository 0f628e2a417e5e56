package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "This spool's indexes will be handed out again": the spool gets a new source id, so that consumers'
 * (source_id, spool_index) keys of the records to come cannot collide with those Kafka already has. Two
 * causes, one step: the checkpoint found ahead of the spool's last record at start, and, with
 * {@code delivery = exactly_once}, Kafka's committed position ahead of it: this spool is an older copy of the
 * one forwarded. (After an OS crash, which also leaves them ahead, the spool has already moved its appends on
 * above every index it handed out, at open: {@link Spool#moveOnAfterRestart}; no new id is needed then.)
 * Forwarder thread only.
 */
final class SourceFork {

    private static final Logger LOG = LoggerFactory.getLogger(SourceFork.class);

    private final Spool spool;
    private final Checkpoint checkpoint;

    SourceFork(Spool spool, Checkpoint checkpoint) {
        this.spool = spool;
        this.checkpoint = checkpoint;
    }

    /**
     * At start: if the checkpoint is ahead of the spool's last record, it goes back to that record and the
     * spool gets a new source id.
     */
    void checkAtStart() {
        long cp = checkpoint.read();
        long last = spool.lastIndex();
        if (cp == Checkpoint.NONE || last >= cp) {
            return;
        }
        long gap = spool.query().indexGap(last, cp);
        if (spool.appendsAbove(cp)) {
            // The machine restarted and appends moved on above every index handed out before: none is reused.
            LOG.error(
                    "the checkpoint ({}) is ahead of the spool's last record ({}): an OS crash or power loss took"
                            + " {} forwarded records from the spool before they reached the disk; new records get"
                            + " indexes above them, so the source id {} stays",
                    cp,
                    last,
                    gap,
                    spool.sourceId());
            return;
        }
        UUID old = renew();
        checkpoint.rewindTo(last < 0 ? Checkpoint.NONE : last);
        LOG.error(
                "the checkpoint ({}) is ahead of the spool's last record ({}): an OS crash or power loss took"
                        + " {} forwarded records from the spool before they reached the disk; their indexes will be"
                        + " used again, so the spool's source id changes from {} to {}",
                cp,
                last,
                gap,
                old,
                spool.sourceId());
    }

    /**
     * exactly_once: Kafka committed records of this source id up to {@code committed}, beyond this spool's
     * last record. The spool gets a new source id (so a new transactional id and position); the local
     * checkpoint stays where it is.
     */
    void kafkaIsAhead(long committed) {
        UUID old = renew();
        LOG.error(
                "Kafka has committed records of spool source {} up to index {}, beyond this spool's last record"
                        + " ({}): this spool is an older copy of the one forwarded, or lost records in an OS crash. Its"
                        + " new records would reuse indexes Kafka already has, so its source id changes to {};"
                        + " forwarding goes on from the local checkpoint {}",
                old,
                committed,
                spool.lastIndex(),
                spool.sourceId(),
                checkpoint.read());
    }

    private UUID renew() {
        UUID old = spool.sourceId();
        try {
            spool.identity().newSourceId();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a new source id in " + spool.dir(), e);
        }
        return old;
    }
}
