package dev.forwarder.internal.forward;

import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.Flow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The simulations' disk under an OS crash. The spool's files live in the page cache; {@link #writeback} is the
 * kernel writing every dirty page to the disk (the image); {@link #crash} is a power loss: the spool becomes
 * the image again, but for the files the forwarder forces to the disk whenever it changes them, which are
 * as they were, and the roll files it deleted (it forces the deletion). The checkpoint is forced on a timer: it comes back as either. The dead-letter spool is kept
 * apart (taken as durable): a dead letter lost with the page cache is a loss no one could count.
 */
final class DiskImage {

    /** Forced to the disk at every change: an OS crash leaves them as they are. */
    static final Set<String> FORCED = Set.of("cycle-mark", "source-id", "boot-id", "home", "copied-from");

    private final Path spool;
    private final Path image;

    DiskImage(Path spool) {
        this.spool = spool;
        this.image = spool.resolveSibling(spool.getFileName() + "-disk");
    }

    /** Every dirty page reached the disk: the image is the spool as it is now. */
    void writeback() {
        deleteTree(image);
        copy(spool, image);
    }

    /**
     * The power went (every process on the spool is gone, its files closed): the spool is the image again,
     * but for the forced files; the checkpoint as it is ({@code checkpointForced}) or as the image has it.
     */
    void crash(boolean checkpointForced) {
        Set<String> rollFilesNow = rollFiles(spool);
        try (Stream<Path> files = Files.list(spool)) {
            for (Path p : files.toList()) {
                if (!survives(p, checkpointForced)) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Stream<Path> files = Files.list(image)) {
            for (Path p : files.toList()) {
                if (!survives(spool.resolve(p.getFileName().toString()), checkpointForced)) {
                    copy(p, spool.resolve(p.getFileName().toString()));
                }
            }
            // The forwarder forces the deletion of a roll file (RollFiles): one deleted since the writeback stays
            // deleted.
            for (String name : rollFiles(image)) {
                if (!rollFilesNow.contains(name)) {
                    Files.delete(spool.resolve("queue").resolve(name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<String> rollFiles(Path spoolDir) {
        Path queue = spoolDir.resolve("queue");
        if (!Files.isDirectory(queue)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(queue)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(name -> name.endsWith(".cq4"))
                    .collect(Collectors.toSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the image (at the end of a run). */
    void delete() {
        deleteTree(image);
    }

    private static boolean survives(Path p, boolean checkpointForced) {
        String name = p.getFileName().toString();
        return FORCED.contains(name)
                || name.equals(Spool.DEAD_LETTER_DIR)
                || (checkpointForced && name.equals("checkpoint"));
    }

    /** Copies a spool's files but its dead-letter spool (taken as durable: see the class comment). */
    private static void copy(Path from, Path to) {
        Flow.copyTree(
                from,
                to,
                relative -> relative.getNameCount() > 0
                        && relative.getName(0).toString().equals(Spool.DEAD_LETTER_DIR));
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            List<Path> all = paths.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
