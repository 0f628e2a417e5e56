package dev.forwarder.internal.spool;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A spool directory opened for a forwarder or an appender: the lock (forwarder only), the spool and its
 * dead-letter spool, their space guards, the checkpoint, the encryption keys. Opened in that order, closed in
 * the reverse; if a part fails to open, those already open are closed and the start fails.
 *
 * <p>Misuse: close it after whatever appends to it or reads it has stopped (the publisher, the forwarder).
 */
public final class OpenSpool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpenSpool.class);

    private final SpoolLock lock;
    private final Spool spool;
    private final Spool deadLetters;
    private final SpaceGuard deadLetterSpace;
    private final SpaceGuard space;
    private final Checkpoint checkpoint;

    private OpenSpool(
            SpoolLock lock,
            Spool spool,
            Spool deadLetters,
            SpaceGuard deadLetterSpace,
            SpaceGuard space,
            Checkpoint checkpoint) {
        this.lock = lock;
        this.spool = spool;
        this.deadLetters = deadLetters;
        this.deadLetterSpace = deadLetterSpace;
        this.space = space;
        this.checkpoint = checkpoint;
    }

    /**
     * Opens {@code spool.dir}.
     *
     * @param forward    whether this process forwards the spool: it takes the lock, and refuses to start when
     *                   unforwarded records are sealed with keys it does not hold
     * @param rollPeriod the roll period of the spool's files (the configured one, but for tests)
     * @throws ForwarderException another process forwards the spool, or keys are missing
     * @throws IOException        the spool cannot be opened
     */
    public static OpenSpool open(ForwarderConfig.Kafka kafka, boolean forward, RollPeriod rollPeriod)
            throws IOException {
        Path dir = kafka.spool().dir();
        ForwarderConfig.Spool settings = kafka.spool();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            OwnerOnly.directory(dir);
            SpoolLock lock = forward ? add(opened, SpoolLock.acquire(dir)) : null;
            long blockSize = SpaceGuard.blockSizeFor(dir, settings.maxBytes());
            Spool spool = add(
                    opened,
                    new Spool(
                            dir,
                            Spool.Settings.defaults()
                                    .rollPeriod(rollPeriod)
                                    .rollBytes(rollBytes(settings.maxBytes()))
                                    .blockSize(blockSize)
                                    .syncEveryRecord(settings.sync() == ForwarderConfig.SyncPolicy.EVERY_RECORD)));
            Spool.Prepared prepared = spool.prepareForAppends(forward, SpoolIdentity.bootId());
            SpoolIdentity.CopiedFrom copy = prepared.copiedFrom();
            if (copy != null) {
                LOG.warn(
                        "spool {} is a copy (it was created in another directory or on another disk) of spool {}: it"
                                + " takes a source id of its own, {}, so that its records do not share identities with"
                                + " the original's and its transactions do not fence the original's",
                        dir,
                        copy.sourceId(),
                        spool.sourceId());
            }
            long movedTo = prepared.movedToCycle();
            if (movedTo >= 0) {
                LOG.warn(
                        "the machine restarted since spool {} was last opened: an OS crash may have taken its last"
                                + " records from the disk after they reached Kafka, so new records start in a new roll"
                                + " file (cycle {}) and reuse none of their indexes",
                        dir,
                        movedTo);
            }
            Spool deadLetters = add(
                    opened,
                    new Spool(
                            dir.resolve("dead-letter"),
                            Spool.Settings.defaults().blockSize(blockSize)));
            SpaceGuard deadLetterSpace = add(
                    opened,
                    SpaceGuard.measuredByCaller(
                            deadLetters, settings.maxBytes(), blockSize, SpaceGuard.usableSpaceOf(dir)));
            SpaceGuard space = add(
                    opened,
                    new SpaceGuard(
                            spool,
                            settings.maxBytes(),
                            blockSize,
                            settings.sync() == ForwarderConfig.SyncPolicy.INTERVAL ? settings.syncIntervalMs() : 0));
            if (!space.admits(0)) {
                LOG.warn(
                        "spool {} starts full: {} MiB usable on its disk, {} MiB of max_bytes {} MiB in use;"
                                + " records are refused until there is room",
                        dir,
                        space.usableBytes() >> 20,
                        space.spoolBytes() >> 20,
                        settings.maxBytes() >> 20);
            }
            Checkpoint checkpoint = add(opened, new Checkpoint(dir.resolve("checkpoint")));
            SpoolKeys keys = settings.encryptionKeyFile().isPresent()
                    ? SpoolKeys.load(settings.encryptionKeyFile().get())
                    : null;
            spool.sealWith(keys);
            deadLetters.sealWith(keys);
            spool.rollAhead(space.roomToTouch()); // the current cycle's file, before the first publish needs it
            spool.pretouch(space::roomToTouch);
            if (forward) {
                refuseRecordsWithoutTheirKey(spool, checkpoint.read(), keys);
            }
            return new OpenSpool(lock, spool, deadLetters, deadLetterSpace, space, checkpoint);
        } catch (IOException | RuntimeException e) {
            closeInReverse(opened);
            throw e;
        }
    }

    /**
     * How large a roll file may grow before the next one is opened: a quarter of {@code max_bytes}. With a
     * healthy broker the spool holds the file being written and at most one forwarded file not deleted yet,
     * so it stays near half the bound however fast records come; the rest is for an outage's backlog.
     */
    public static long rollBytes(long maxBytes) {
        return maxBytes / 4;
    }

    /**
     * The dead-letter spool's files: daily, ended at a quarter of its bound too, with the spool's block, so
     * that any record the spool took can be a dead letter (Chronicle takes a record of at most a quarter of a
     * block).
     */
    public static Spool.Settings deadLetterSettings(long spoolBlockSize, long deadLetterMaxBytes) {
        return Spool.Settings.defaults()
                .rollPeriod(RollPeriod.DAILY)
                .blockSize(spoolBlockSize)
                .rollBytes(rollBytes(deadLetterMaxBytes));
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> opened, T part) {
        opened.add(part);
        return part;
    }

    /**
     * An encrypted spool is only forwarded with the keys of every unforwarded record at hand: otherwise the
     * start fails, naming the keys that are missing, and nothing in the spool is touched.
     */
    private static void refuseRecordsWithoutTheirKey(Spool spool, long checkpoint, SpoolKeys keys) {
        SealingLog.Contents log = spool.sealingLog().read();
        if (!mustReadRecords(log, keys)) {
            // Every key that sealed an unforwarded record is at hand, by the log: no need to read them all (at
            // about 0.3 µs a record, a start on a backlog of millions waited seconds here).
            logKeys(spool, keys);
            return;
        }
        Map<Long, Long> sealing = spool.query().sealingKeysAfter(checkpoint);
        List<String> missing = new ArrayList<>();
        long count = 0;
        for (Map.Entry<Long, Long> e : sealing.entrySet()) {
            long id = e.getKey();
            if (id != SpoolRecord.NOT_SEALED && (keys == null || !keys.holds((int) id))) {
                missing.add(SpoolKeys.name((int) id));
                count += e.getValue();
            }
        }
        if (missing.isEmpty()) {
            if (keys != null && sealing.containsKey(SpoolRecord.NOT_SEALED)) {
                LOG.info(
                        "spool {} holds {} unforwarded records written before encryption was on; they are"
                                + " forwarded as they are",
                        spool.dir(),
                        sealing.get(SpoolRecord.NOT_SEALED));
            }
            logKeys(spool, keys);
            if (!log.complete()) {
                Set<Integer> found = new TreeSet<>();
                sealing.keySet().stream()
                        .filter(id -> id != SpoolRecord.NOT_SEALED)
                        .forEach(id -> found.add((int) (long) id));
                spool.sealingLog().complete(found);
            }
            return;
        }
        throw new ForwarderException("spool " + spool.dir() + " holds " + count + " unforwarded records sealed"
                + " with key " + String.join(", ", missing)
                + (keys == null
                        ? ", but gateway.observability.kafka.spool.encryption.key_file is not set: set it to the key"
                                + " file that holds " + (missing.size() == 1 ? "that key" : "those keys")
                        : ", which " + keys.file() + " does not hold (it holds " + String.join(", ", keys.names())
                                + "): add the key back to that file, below the active one")
                + "; nothing in the spool was changed");
    }

    /**
     * Whether the start must read every unforwarded record to learn the keys that sealed them: unless the
     * spool's sealing log is complete and names only keys at hand (none, for a spool never encrypted).
     */
    static boolean mustReadRecords(SealingLog.Contents log, SpoolKeys keys) {
        if (!log.complete()) {
            return true;
        }
        for (int id : log.keyIds()) {
            if (keys == null || !keys.holds(id)) {
                return true;
            }
        }
        return false;
    }

    private static void logKeys(Spool spool, SpoolKeys keys) {
        if (keys != null) {
            LOG.info(
                    "spool {}: records sealed with key {} from {}",
                    spool.dir(),
                    SpoolKeys.name(keys.activeId()),
                    keys.file());
        }
    }

    public Spool spool() {
        return spool;
    }

    public Spool deadLetters() {
        return deadLetters;
    }

    public SpaceGuard space() {
        return space;
    }

    public SpaceGuard deadLetterSpace() {
        return deadLetterSpace;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** Closes every part, in the reverse of the order it was opened; a failure is logged and the rest closed. */
    @Override
    public void close() {
        List<AutoCloseable> parts = new ArrayList<>();
        if (lock != null) {
            parts.add(lock);
        }
        parts.addAll(List.of(spool, deadLetters, deadLetterSpace, space, checkpoint));
        closeInReverse(parts);
    }

    private static void closeInReverse(List<AutoCloseable> parts) {
        for (int i = parts.size() - 1; i >= 0; i--) {
            try {
                parts.get(i).close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", parts.get(i), e);
            }
        }
    }
}
