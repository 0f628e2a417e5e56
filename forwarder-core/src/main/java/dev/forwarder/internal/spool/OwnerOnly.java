package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool holds every prompt and answer: its directories are {@code rwx------} and its files
 * {@code rw-------}, whatever the process's umask. Directories are created so; files are narrowed right after
 * they are created (inside an owner-only directory, so no other user can open them meanwhile); an existing
 * spool is narrowed at start, with a log line naming what changed. A spool directory that other users can
 * write to is refused: they could have replaced anything in it. So is one owned by another user (but root),
 * or below a directory another user owns or may write to without its sticky bit (they could put another
 * directory in its place), in the spirit of OpenSSH's {@code StrictModes}. A spool directory given as a
 * symbolic link is checked and narrowed where the link leads; links inside the spool are never followed.
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
                createParents(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
            } catch (FileAlreadyExistsException raced) {
                // another process made it: checked below
            }
            Files.setPosixFilePermissions(dir, DIRECTORY); // the umask may have narrowed the attribute: set it
            checkAbove(dir.toRealPath(), dir);
            return;
        }
        Path real = dir.toRealPath(); // a spool given as a link: where it leads is what holds the records
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(real);
        if (now.contains(PosixFilePermission.GROUP_WRITE) || now.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("spool directory " + dir + " is writable by other users ("
                    + PosixFilePermissions.toString(now) + "): refusing to use it, since they could have changed"
                    + " its records; make it owner-only (chmod 700 " + dir + ") after checking its contents");
        }
        int owner = uid(real);
        if (!trustedOwner(owner)) {
            throw new IOException("spool directory " + dir + " is owned by another user (uid " + owner + ", this"
                    + " process runs as uid " + OWN_UID + "): refusing to use it, since that user could have changed"
                    + " its records; chown it to this process's user after checking its contents");
        }
        checkAbove(real, dir);
        narrow(real, DIRECTORY, true);
    }

    /** The uid this process runs as (the owner of {@code /proc/self}), or -1 where that cannot be told. */
    private static final int OWN_UID = ownUid();

    private static int ownUid() {
        try {
            return uid(Path.of("/proc/self"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    private static int uid(Path p) throws IOException {
        try {
            return (Integer) Files.getAttribute(p, "unix:uid");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return -1; // no "unix" attribute view: ownership is not checked
        }
    }

    /** This process's user or root; any owner where ownership cannot be told. */
    private static boolean trustedOwner(int uid) {
        return uid < 0 || OWN_UID < 0 || uid == OWN_UID || uid == 0;
    }

    /**
     * Refuses a spool below a directory that someone else could rename it out of, or put another directory in
     * its place: one owned by another user than this process's and root, or writable by group or others
     * without the sticky bit ({@code /tmp} has it: only an entry's owner may rename it there).
     */
    private static void checkAbove(Path real, Path given) throws IOException {
        for (Path p = real.getParent(); p != null; p = p.getParent()) {
            int mode;
            try {
                mode = (Integer) Files.getAttribute(p, "unix:mode");
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                return; // no "unix" attribute view
            }
            boolean sticky = (mode & 01000) != 0;
            if ((mode & 0022) != 0 && !sticky) {
                throw new IOException("spool directory " + given + " is inside " + p + ", which other users may"
                        + " write to (mode " + Integer.toOctalString(mode & 07777) + ", no sticky bit): refusing to"
                        + " use it, since they could replace the spool with a directory of their own; chmod go-w "
                        + p + " (or chmod +t), or move the spool");
            }
            int owner = uid(p);
            if (!trustedOwner(owner)) {
                throw new IOException("spool directory " + given + " is inside " + p + ", owned by another user (uid "
                        + owner + ", this process runs as uid " + OWN_UID + "): refusing to use it, since that user"
                        + " could replace the spool with a directory of their own; move the spool");
            }
        }
    }

    /**
     * Creates the missing directories above a new spool {@code rwxr-xr-x} whatever the umask: a umask of 000
     * would leave them writable by everyone (and the spool then refused by {@link #checkAbove}).
     */
    private static void createParents(Path dir) throws IOException {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        Path base = existing == null ? dir.getRoot() : existing;
        for (Path name : base.relativize(dir)) {
            base = base.resolve(name);
            try {
                Files.createDirectory(base);
                Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (FileAlreadyExistsException raced) {
                // another process made it: checked by checkAbove
            }
        }
    }

    /**
     * Narrows a file this process created (or found) to owner-only. A file gone meanwhile holds nothing to
     * protect: Chronicle reports a roll file acquired (by its background releaser, say) that the forwarder
     * deletes at once once forwarded, which logged a WARN at every such roll.
     */
    public static void file(Path file) {
        if (!POSIX) {
            return;
        }
        try {
            narrow(file, FILE, false);
        } catch (NoSuchFileException gone) {
            LOG.debug("{} is gone before it was made owner-only", file);
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
        // From where a linked spool leads: a walk does not follow a link, not even the one it starts at. Other
        // processes on the spool create, rename and delete files and directories meanwhile (retention, roll files
        // made ahead, the warm-up queue): a name gone by the time it is read is skipped, not an error.
        Files.walkFileTree(dir.toRealPath(), new LiveTreeVisitor() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                narrowUnlessGone(d, DIRECTORY, log);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isSymbolicLink()) {
                    narrowUnlessGone(f, attrs.isDirectory() ? DIRECTORY : FILE, log);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void narrowUnlessGone(Path p, Set<PosixFilePermission> wanted, boolean log) throws IOException {
        try {
            narrow(p, wanted, log);
        } catch (NoSuchFileException gone) {
            // deleted or renamed meanwhile: nothing to narrow
        }
    }

    /** Sets {@code wanted}; with {@code log}, says so when other users had access (an existing spool). */
    private static void narrow(Path p, Set<PosixFilePermission> wanted, boolean log) throws IOException {
        if (Files.isSymbolicLink(p)) {
            return; // setting permissions would follow it, out of the spool
        }
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
