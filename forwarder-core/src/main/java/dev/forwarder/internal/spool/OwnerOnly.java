package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool holds every prompt and answer: its directories are {@code rwx------} and its files
 * {@code rw-------}, whatever the process's umask. Directories are created so; files are narrowed right after
 * they are created (inside an owner-only directory, so no other user can open them meanwhile); an existing
 * spool is narrowed at start, with a log line naming what changed. A spool directory that other users can
 * write to is refused: they could have replaced anything in it.
 *
 * <p>On a file system without POSIX permissions (Windows) this does nothing.
 */
public final class OwnerOnly {

    private static final Logger LOG = LoggerFactory.getLogger(OwnerOnly.class);
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnly() {}

    /**
     * Creates {@code dir} (and missing parents) owner-only, or checks an existing one: refused if other users
     * may write to it, narrowed (logged) if they may read it.
     *
     * @throws IOException naming the directory, when other users may write to it
     */
    public static void directory(Path dir) throws IOException {
        if (!POSIX) {
            Files.createDirectories(dir);
            return;
        }
        if (!Files.exists(dir)) {
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null && !Files.exists(parent)) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
            } catch (FileAlreadyExistsException raced) {
                // another process made it: checked below
            }
            Files.setPosixFilePermissions(dir, DIRECTORY); // the umask may have narrowed the attribute: set it
            return;
        }
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(dir);
        if (now.contains(PosixFilePermission.GROUP_WRITE) || now.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("spool directory " + dir + " is writable by other users ("
                    + PosixFilePermissions.toString(now) + "): refusing to use it, since they could have changed"
                    + " its records; make it owner-only (chmod 700 " + dir + ") after checking its contents");
        }
        narrow(dir, DIRECTORY, true);
    }

    /** Narrows a file this process created (or found) to owner-only. */
    public static void file(Path file) {
        if (!POSIX) {
            return;
        }
        try {
            narrow(file, FILE, false);
        } catch (IOException e) {
            LOG.warn("cannot make {} owner-only: {}", file, e.toString());
        }
    }

    /** At start: narrows everything under {@code dir} that is wider than owner-only, logging what changed. */
    public static void tree(Path dir) throws IOException {
        tree(dir, true);
    }

    /** As {@link #tree(Path)}; without {@code log}, for what this process has just created. */
    static void tree(Path dir, boolean log) throws IOException {
        if (!POSIX || !Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.toList()) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                try {
                    narrow(p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? DIRECTORY : FILE, log);
                } catch (NoSuchFileException gone) {
                    // deleted meanwhile (retention of another process's writes): nothing to narrow
                }
            }
        }
    }

    /** Sets {@code wanted}; with {@code log}, says so when other users had access (an existing spool). */
    private static void narrow(Path p, Set<PosixFilePermission> wanted, boolean log) throws IOException {
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        if (now.equals(wanted)) {
            return;
        }
        Files.setPosixFilePermissions(p, wanted);
        Set<PosixFilePermission> extra = EnumSet.copyOf(now.isEmpty() ? wanted : now);
        extra.removeAll(wanted);
        if (log && !now.isEmpty() && !extra.isEmpty()) {
            LOG.warn(
                    "{} was {}: made owner-only ({}), since the spool holds prompts and answers",
                    p,
                    PosixFilePermissions.toString(now),
                    PosixFilePermissions.toString(wanted));
        }
    }
}
