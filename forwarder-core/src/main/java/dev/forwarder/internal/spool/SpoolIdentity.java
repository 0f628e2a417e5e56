package dev.forwarder.internal.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Who a spool is, in the small files that keep its records' identities (source_id, spool_index) unique: its
 * source id ({@code source-id}), the directory it lives in ({@code home}, and {@code copied-from} once a copy
 * was found), and the machine boot it was last opened in ({@code boot-id}). Each is written whole and forced
 * to the disk with its directory before anything relies on it. The roll cycles ({@code cycle-mark}) are the
 * appender's: {@link Spool#moveOnAfterRestart}.
 */
public final class SpoolIdentity {

    /** The spool this one was copied from, as {@link #adoptIfCopied} found it. */
    public record CopiedFrom(UUID sourceId, long lastIndex) {}

    private final Path dir;
    private volatile UUID sourceId;

    /** The identity of the spool in {@code dir}: its source id, made now if the spool has none. */
    SpoolIdentity(Path dir) throws IOException {
        this.dir = dir;
        this.sourceId = readOrCreateSourceId(dir);
    }

    public UUID sourceId() {
        return sourceId;
    }

    /**
     * Gives the spool a new source id, after the checkpoint was found ahead of the spool (an OS crash took
     * records that had been forwarded): the indexes of those records will be handed out again, and a new
     * source id keeps consumers' (source_id, spool_index) dedupe keys from colliding with the old ones.
     *
     * @return the new id
     */
    public UUID newSourceId() throws IOException {
        UUID id = UUID.randomUUID();
        writeForced(dir.resolve("source-id"), id.toString()); // on the disk before any record goes under it
        sourceId = id;
        return id;
    }

    /**
     * For the forwarding process, at open, before anything is forwarded: whether this directory is the one the
     * spool lives in (its file system's device and inode number, kept in {@code <dir>/home}). A copy (a backup
     * restored, {@code cp -a} or rsync to another directory or disk) takes a source id of its own: else its
     * records would share (source_id, spool_index) with the original's, and with {@code exactly_once} its
     * producer (the same transactional id) would fence the original's. The original's id and the copy's last
     * index are kept in {@code <dir>/copied-from}, so that exactly_once goes on after what the original
     * committed of the records the copy shares with it. A spool moved within its file system is not a copy.
     *
     * @param lastIndex the spool's last index now
     * @return what the copy was made from, or null when this is no copy (or the file system has no inodes)
     */
    CopiedFrom adoptIfCopied(long lastIndex) throws IOException {
        String here = home(dir);
        if (here == null) {
            return null;
        }
        Path file = dir.resolve("home");
        String recorded = Files.exists(file)
                ? Files.readString(file, StandardCharsets.UTF_8).trim()
                : null;
        CopiedFrom from = null;
        if (recorded != null && !recorded.equals(here)) {
            from = new CopiedFrom(sourceId, lastIndex);
            writeForced(dir.resolve("copied-from"), from.sourceId() + " " + from.lastIndex());
            newSourceId();
        }
        if (!here.equals(recorded)) {
            writeForced(file, here);
        }
        return from;
    }

    /** What {@link #adoptIfCopied} kept of the spool this one was copied from, or null. */
    public CopiedFrom copiedFrom() {
        Path file = dir.resolve("copied-from");
        try {
            if (!Files.exists(file)) {
                return null;
            }
            String[] parts =
                    Files.readString(file, StandardCharsets.UTF_8).trim().split(" ");
            return new CopiedFrom(UUID.fromString(parts[0]), Long.parseLong(parts[1]));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Whether the machine may have restarted since the spool was last opened: {@code bootId} differs from the
     * one recorded, or either cannot be known.
     */
    boolean bootChanged(String bootId) throws IOException {
        Path file = dir.resolve("boot-id");
        String last = Files.exists(file)
                ? Files.readString(file, StandardCharsets.UTF_8).trim()
                : null;
        return bootId == null || !bootId.equals(last);
    }

    /** Records {@code bootId} as the boot the spool was last opened in (forced); nothing for null. */
    void recordBoot(String bootId) throws IOException {
        if (bootId != null) {
            writeForced(dir.resolve("boot-id"), bootId);
        }
    }

    /** This boot's id, or null where the system has none (not Linux). */
    public static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id"), StandardCharsets.US_ASCII)
                    .trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The directory's device and inode number, or null where the file system does not say. */
    private static String home(Path dir) {
        try {
            return Files.getAttribute(dir, "unix:dev") + ":" + Files.getAttribute(dir, "unix:ino");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Writes a small file whole (a temporary file renamed over it), forced to the disk with its directory. */
    private void writeForced(Path file, String content) throws IOException {
        Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        Files.writeString(temp, content + "\n", StandardCharsets.UTF_8);
        force(temp);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        force(dir);
    }

    /** fsync of a file or a directory (the directory's entries: a file created or renamed in it). */
    private static void force(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static UUID readOrCreateSourceId(Path dir) throws IOException {
        Path file = dir.resolve("source-id");
        if (!Files.exists(file)) {
            Path temp = Files.createTempFile(dir, "source-id", ".tmp");
            Files.writeString(temp, UUID.randomUUID() + "\n", StandardCharsets.UTF_8);
            try {
                // link(2) fails if the name exists, atomically: of two racing processes exactly one wins,
                // and the file is never seen half-written.
                Files.createLink(file, temp);
            } catch (FileAlreadyExistsException e) {
                // another process won the race; use its id
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        return UUID.fromString(Files.readString(file, StandardCharsets.UTF_8).trim());
    }
}
