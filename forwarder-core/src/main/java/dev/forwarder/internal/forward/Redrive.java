package dev.forwarder.internal.forward;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderException;
import dev.forwarder.RedriveResult;
import dev.forwarder.internal.kafka.Failures;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.OpenSpool;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import dev.forwarder.internal.spool.SpoolLock;
import dev.forwarder.internal.spool.SpoolReader;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends dead-lettered records again, in order, with their original {@code source_id}/{@code spool_index}
 * headers, and removes those Kafka acknowledged from the dead-letter spool.
 *
 * <p>The dead-letter spool is append-only, so removal is a rewrite: the records to keep (not selected, or
 * refused again) go to {@code dead-letter.redrive}, which then replaces {@code dead-letter} by two renames.
 * A crash between the renames is repaired by the next redrive ({@link #repair}): a leftover
 * {@code dead-letter.old} is the whole dead-letter spool if {@code dead-letter} is missing, and a finished
 * swap's leftover otherwise. A crash after Kafka acknowledged and before the swap sends those records once
 * more next time (same headers: consumers drop the copy).
 *
 * <p>The forwarder writes the dead-letter spool, so redrive takes the spool's lock: it refuses to run while
 * a forwarder runs on the spool, naming its process.
 */
public final class Redrive {

    private static final Logger LOG = LoggerFactory.getLogger(Redrive.class);

    private Redrive() {}

    /** As {@link #run(ForwarderConfig.Kafka, Instant, DataType, Supplier)}, with the forwarder's producer. */
    public static RedriveResult run(ForwarderConfig.Kafka kafka, Instant since, DataType type) {
        return run(kafka, since, type, () -> new KafkaProducer<>(ProducerSettings.producer(kafka)));
    }

    /**
     * @param since    only dead letters whose record was first appended at or after this instant; null: all
     * @param type     only this data type; null: all
     * @param producers makes the producer (the forwarder's settings)
     */
    public static RedriveResult run(
            ForwarderConfig.Kafka kafka, Instant since, DataType type, Supplier<Producer<byte[], byte[]>> producers) {
        Path dir = kafka.spool().dir();
        Path deadLetterDir = dir.resolve("dead-letter");
        try (SpoolLock lock = SpoolLock.acquire(dir)) {
            repair(dir);
            if (!Files.isDirectory(deadLetterDir.resolve("queue"))) {
                return new RedriveResult(0, 0, 0, 0);
            }
            UUID spoolSource;
            try (Spool spool = new Spool(dir)) {
                spoolSource = spool.sourceId();
            }
            SpoolKeys keys = kafka.spool().encryptionKeyFile().isPresent()
                    ? SpoolKeys.load(kafka.spool().encryptionKeyFile().get())
                    : null;
            List<SpoolRecord.Entry> all = new ArrayList<>();
            long[] corrupt = {0};
            long[] seen = {Checkpoint.NONE}; // the last index read, a record or a corrupt one
            String[] unreadable = {null};
            try (Spool deadLetters = new Spool(deadLetterDir).sealWith(keys);
                    SpoolReader reader = new SpoolReader(deadLetters, new SpoolReader.CorruptRecords() {
                        @Override
                        public void corrupt(long index, String reason) {
                            corrupt[0]++;
                            seen[0] = index;
                        }

                        @Override
                        public void unreadable(long index, String reason) {
                            unreadable[0] = reason;
                        }
                    })) {
                readAll(deadLetters, reader, all, seen, unreadable, dir);
            }
            if (unreadable[0] != null) {
                // Rewriting the dead letters without the ones it cannot read would delete them: stop instead.
                throw new ForwarderException("cannot redrive the dead letters of " + dir + ": dead-letter "
                        + unreadable[0] + "; nothing was sent or changed");
            }
            List<Integer> selected = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                SpoolRecord.Entry e = all.get(i);
                if ((since == null || e.appendTimeMs() >= since.toEpochMilli()) && (type == null || e.type() == type)) {
                    selected.add(i);
                }
            }
            AtomicReferenceArray<Object> outcome = new AtomicReferenceArray<>(all.size());
            Object delivered = new Object();
            if (!selected.isEmpty()) {
                Producer<byte[], byte[]> made;
                try {
                    made = producers.get();
                } catch (RuntimeException e) {
                    throw new ForwarderException("cannot create the Kafka producer to redrive: " + e.getMessage(), e);
                }
                try (Producer<byte[], byte[]> producer = made) {
                    for (int i : selected) {
                        SpoolRecord.Entry e = all.get(i);
                        DeadLetters.Origin origin = DeadLetters.origin(e.note());
                        UUID source = origin.sourceId() != null ? origin.sourceId() : spoolSource;
                        producer.send(
                                KafkaMessages.of(
                                        e,
                                        kafka.topic(e.type()),
                                        KafkaMessages.sourceIdHeader(source),
                                        origin.spoolIndex()),
                                (metadata, error) -> outcome.set(i, error == null ? delivered : error));
                    }
                    producer.flush();
                }
            }
            List<SpoolRecord.Entry> keep = new ArrayList<>();
            long sentAgain = 0;
            long failed = 0;
            for (int i = 0; i < all.size(); i++) {
                Object o = outcome.get(i);
                if (o == delivered) {
                    sentAgain++;
                    continue;
                }
                if (o instanceof Exception error) {
                    failed++;
                    LOG.warn("dead letter {} refused again: {}", all.get(i).index(), Failures.describe(error));
                }
                keep.add(all.get(i));
            }
            if (sentAgain > 0) {
                rewrite(
                        dir,
                        keep,
                        keys,
                        OpenSpool.deadLetterSettings(
                                SpaceGuard.blockSizeFor(dir, kafka.spool().maxBytes()),
                                kafka.spool().deadLetters().maxBytes()));
            }
            LOG.info(
                    "redrive: {} dead letters selected, {} delivered and removed, {} refused again, {} kept in all"
                            + "{}",
                    selected.size(),
                    sentAgain,
                    failed,
                    keep.size(),
                    corrupt[0] > 0 ? " (" + corrupt[0] + " corrupt dead letters skipped and dropped from it)" : "");
            return new RedriveResult(selected.size(), sentAgain, failed, keep.size());
        } catch (IOException e) {
            throw new ForwarderException("cannot redrive the dead letters of " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads every dead letter, to the last. The rewrite keeps only what was read, so stopping early would
     * delete the rest unread: a roll file without its end-of-file marker (the reader waits a grace period
     * before it moves on; here its clock is moved past it), or a long run of corrupt records (the reader
     * yields after 1,024). If the last dead letter still cannot be reached, nothing is sent or changed.
     */
    private static void readAll(
            Spool deadLetters,
            SpoolReader reader,
            List<SpoolRecord.Entry> all,
            long[] seen,
            String[] unreadable,
            Path dir) {
        reader.seekAfter(Checkpoint.NONE);
        long last = deadLetters.lastIndex();
        long now = System.nanoTime();
        long progress = seen[0];
        int stalls = 0;
        while (unreadable[0] == null) {
            SpoolRecord.Entry e = reader.next(now);
            if (e != null) {
                all.add(e);
                seen[0] = e.index();
                continue;
            }
            if (seen[0] >= last) {
                return;
            }
            now += TimeUnit.SECONDS.toNanos(10); // past the reader's grace for an unterminated file
            if (seen[0] != progress) {
                progress = seen[0];
                stalls = 0;
            } else if (++stalls > 3) {
                throw new ForwarderException("cannot redrive the dead letters of " + dir + ": reading stopped at"
                        + " dead letter " + seen[0] + " before the last one (" + last + "); nothing was sent or"
                        + " changed");
            }
        }
    }

    /** Writes the records to keep to a new dead-letter spool and swaps it in. */
    private static void rewrite(Path dir, List<SpoolRecord.Entry> keep, SpoolKeys keys, Spool.Settings settings)
            throws IOException {
        Path current = dir.resolve("dead-letter");
        Path fresh = dir.resolve("dead-letter.redrive");
        Path old = dir.resolve("dead-letter.old");
        deleteTree(fresh);
        try (Spool next = new Spool(fresh, settings).sealWith(keys)) {
            for (SpoolRecord.Entry e : keep) {
                next.append(
                        e.type(),
                        e.appendTimeMs(),
                        e.keyBytes(),
                        e.payload(),
                        e.note() == null ? null : e.note().getBytes(StandardCharsets.UTF_8));
            }
        }
        if (Files.isDirectory(current.resolve("quarantine"))) {
            Files.move(current.resolve("quarantine"), fresh.resolve("quarantine"));
        }
        Files.move(current, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(fresh, current, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    /** Finishes or undoes a swap that a crash interrupted. */
    static void repair(Path dir) throws IOException {
        Path current = dir.resolve("dead-letter");
        Path old = dir.resolve("dead-letter.old");
        if (Files.isDirectory(old)) {
            if (Files.isDirectory(current)) {
                deleteTree(old); // the swap was done; only the deletion was missing
            } else {
                Files.move(old, current, StandardCopyOption.ATOMIC_MOVE); // undo: the old one is the truth
            }
        }
        deleteTree(dir.resolve("dead-letter.redrive"));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
