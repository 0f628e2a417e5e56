package dev.forwarder;

import dev.forwarder.internal.forward.DeadLetters;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import dev.forwarder.internal.spool.SpoolQuery;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A spool directory read by a tool, whether a forwarder runs on it or not: its source id, checkpoint,
 * backlog, size and dead letters, and its records one by one. Reads only (no lock, no quarantine, the
 * checkpoint untouched).
 *
 * <pre>
 * try (SpoolInspector spool = SpoolInspector.open(Path.of("/var/lib/forwarder/spool"), null)) {
 *     System.out.println(spool.backlog() + " records not forwarded yet");
 * }
 * </pre>
 */
public final class SpoolInspector implements AutoCloseable {

    /** One spooled record as a tool sees it. */
    public record Record(
            long spoolIndex, DataType type, long appendTimeMs, String key, byte[] json, DeadLetter deadLetter) {}

    /**
     * Why a record is in the dead-letter spool and where it came from.
     *
     * @param sourceId        the spool it was forwarded from (null for dead letters of versions before 0.1)
     * @param spoolIndex      its index in that spool (-1 when unknown)
     */
    public record DeadLetter(String reason, UUID sourceId, long spoolIndex) {}

    /** What a scan shows. */
    public interface Visitor {
        /** @return false to stop */
        boolean record(Record record);

        /** A record that cannot be read: corrupt, or sealed with a key not at hand (the reason says which). */
        void unreadable(long spoolIndex, String reason);
    }

    private final Path dir;
    private final SpoolKeys keys;
    private final Spool spool;

    private SpoolInspector(Path dir, SpoolKeys keys, Spool spool) {
        this.dir = dir;
        this.keys = keys;
        this.spool = spool;
    }

    /**
     * @param keyFile for an encrypted spool, its {@code spool.encryption.key_file}; null for none
     * @throws IOException there is no spool in {@code dir}, or the key file cannot be read
     */
    public static SpoolInspector open(Path dir, Path keyFile) throws IOException {
        SpoolKeys keys = keyFile == null ? null : SpoolKeys.load(keyFile);
        return new SpoolInspector(dir, keys, openSpool(dir, keys));
    }

    private static Spool openSpool(Path dir, SpoolKeys keys) throws IOException {
        if (!Files.isDirectory(dir.resolve("queue"))) {
            throw new IOException("no spool in " + dir + " (expected " + dir.resolve("queue") + ")");
        }
        return new Spool(dir).sealWith(keys);
    }

    public UUID sourceId() {
        return spool.sourceId();
    }

    /** The forwarder's checkpoint as on disk: every record up to it is settled (-1: none yet). */
    public long checkpoint() throws IOException {
        return Checkpoint.readFile(dir.resolve("checkpoint"));
    }

    /** Records after the checkpoint. */
    public long backlog() throws IOException {
        return spool.query().countAfter(checkpoint());
    }

    /** Append time (epoch ms) of the first record after the checkpoint, or -1 for none. */
    public long oldestUnforwardedAppendTimeMs() throws IOException {
        return spool.query().appendTimeAfter(checkpoint());
    }

    /** Length of the spool's files (roll files are sparse: an upper bound of the disk they take). */
    public long diskBytes() {
        return spool.diskBytes();
    }

    /** Records in the dead-letter spool (sealed ones counted too, without their key). */
    public long deadLetters() throws IOException {
        if (!Files.isDirectory(dir.resolve("dead-letter/queue"))) {
            return 0;
        }
        try (Spool deadLetters = openSpool(dir.resolve("dead-letter"), keys)) {
            return deadLetters.query().sealingKeysAfter(Checkpoint.NONE).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    /** Visits every record of the spool from its start, in order. */
    public void scan(Visitor visitor) {
        scan(spool, visitor);
    }

    /** Visits every record of the dead-letter spool from its start, in order (none if there is none). */
    public void scanDeadLetters(Visitor visitor) throws IOException {
        if (!Files.isDirectory(dir.resolve("dead-letter/queue"))) {
            return;
        }
        try (Spool deadLetters = openSpool(dir.resolve("dead-letter"), keys)) {
            scan(deadLetters, visitor);
        }
    }

    private static void scan(Spool spool, Visitor visitor) {
        spool.query().scan(new SpoolQuery.Visitor() {
            @Override
            public boolean record(SpoolRecord.Entry e) {
                DeadLetter deadLetter = null;
                if (e.note() != null) {
                    DeadLetters.Origin origin = DeadLetters.origin(e.note());
                    deadLetter = new DeadLetter(origin.reason(), origin.sourceId(), origin.spoolIndex());
                }
                return visitor.record(
                        new Record(e.index(), e.type(), e.appendTimeMs(), e.key(), e.payload(), deadLetter));
            }

            @Override
            public void corrupt(long index, String reason) {
                visitor.unreadable(index, reason);
            }
        });
    }

    @Override
    public void close() {
        spool.close();
    }
}
