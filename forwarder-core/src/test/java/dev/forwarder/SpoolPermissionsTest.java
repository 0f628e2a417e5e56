package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.JavaProcess;
import dev.forwarder.testkit.LiveFiles;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The spool holds prompts and answers: owner-only on disk, whatever the umask (checked on real files). */
class SpoolPermissionsTest {

    @TempDir
    Path dir;

    /** Every directory and file under {@code root} that is not owner-only, with its permissions. */
    private static List<String> notOwnerOnly(Path root) throws Exception {
        List<String> wrong = new ArrayList<>();
        for (Path p : LiveFiles.under(root).keySet()) {
            String perms;
            try {
                perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
            } catch (NoSuchFileException e) {
                continue; // a temporary file renamed or deleted by the spool since the walk
            }
            String wanted = Files.isDirectory(p) ? "rwx------" : "rw-------";
            if (!perms.equals(wanted)) {
                wrong.add(root.relativize(p) + " " + perms);
            }
        }
        return wrong;
    }

    @ParameterizedTest
    @ValueSource(strings = {"022", "000"})
    void everythingTheForwarderCreatesIsOwnerOnlyWhateverTheUmask(String umask) throws Exception {
        Path spool = dir.resolve("forwarder-data/spool");
        Path log = dir.resolve("child.log");
        Process child = JavaProcess.start(umask, SpoolWriterChild.class, log, spool.toString());
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, child.exitValue(), Files.readString(log));
        List<Path> rollFiles;
        try (Stream<Path> files = Files.list(spool.resolve("queue"))) {
            rollFiles = files.filter(p -> p.toString().endsWith(".cq4")).toList();
        }
        assertTrue(rollFiles.size() >= 2, "records over two roll files: " + rollFiles);
        for (String made :
                new String[] {"checkpoint", "forwarder.lock", "source-id", "appended-bytes", "dead-letter"}) {
            assertTrue(Files.exists(spool.resolve(made)), made + " was created");
        }
        assertEquals(List.of(), notOwnerOnly(spool), "under umask " + umask);
    }

    @Test
    void anExistingSpoolReadableByOthersIsNarrowedAtStart() throws Exception {
        Path spool = dir.resolve("spool");
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + spool + "\"");
        try (Forwarder appender = Forwarder.startAppender(config)) {
            assertTrue(
                    appender.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}").accepted());
        }
        try (Stream<Path> paths = Files.walk(spool)) {
            for (Path p : paths.toList()) {
                Files.setPosixFilePermissions(
                        p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        assertTrue(!notOwnerOnly(spool).isEmpty());
        try (Forwarder appender = Forwarder.startAppender(config)) {
            assertEquals(List.of(), notOwnerOnly(spool), "narrowed at start");
        }
    }

    @Test
    void aSpoolDirectoryOthersCanWriteToIsRefusedByName() throws Exception {
        Path spool = dir.resolve("shared-spool");
        Files.createDirectories(spool);
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + spool + "\"");
        ForwarderException refused = assertThrows(ForwarderException.class, () -> Forwarder.startAppender(config));
        assertTrue(
                refused.getMessage().contains(spool.toString())
                        && refused.getMessage().contains("writable by other users"),
                refused.getMessage());
    }

    /**
     * A spool given as a symbolic link (a common layout: a link in /var/lib to a data disk) is narrowed where
     * the link leads: before, a walk that does not follow links stopped at the link and left every file
     * readable by others.
     */
    @Test
    void aSpoolGivenAsALinkIsNarrowedWhereTheLinkLeads() throws Exception {
        Path real = dir.resolve("data/spool");
        ForwarderConfig direct = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + real + "\"");
        try (Forwarder appender = Forwarder.startAppender(direct)) {
            assertTrue(
                    appender.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}").accepted());
        }
        try (Stream<Path> paths = Files.walk(real)) {
            for (Path p : paths.toList()) {
                Files.setPosixFilePermissions(
                        p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        Path link = Files.createSymbolicLink(dir.resolve("spool-link"), real);
        ForwarderConfig linked = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + link + "\"");
        try (Forwarder appender = Forwarder.startAppender(linked)) {
            assertEquals(List.of(), notOwnerOnly(real), "narrowed through the link");
        }
    }

    /** Another user (but root) owns the spool: they could have changed its records. Needs root to chown. */
    @Test
    void aSpoolOwnedByAnotherUserIsRefusedNamingTheOwner() throws Exception {
        Path spool = dir.resolve("theirs");
        Files.createDirectories(spool);
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        Files.setAttribute(spool, "unix:uid", 65534); // nobody; an IOException here means the test is not root
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + spool + "\"");
        ForwarderException refused = assertThrows(ForwarderException.class, () -> Forwarder.startAppender(config));
        assertTrue(
                refused.getMessage().contains(spool.toString())
                        && refused.getMessage().contains("owned by another user (uid 65534"),
                refused.getMessage());
    }

    /**
     * A directory above the spool that others may write to, without the sticky bit, lets them put a spool of
     * their own in its place: refused, naming that directory. With the sticky bit (as /tmp) it is accepted.
     */
    @Test
    void aSpoolBelowADirectoryOthersCanWriteToIsRefusedUnlessItIsSticky() throws Exception {
        Path shared = dir.resolve("shared");
        Files.createDirectories(shared);
        Files.setAttribute(shared, "unix:mode", 0777);
        Path spool = shared.resolve("spool");
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + spool + "\"");
        ForwarderException refused = assertThrows(ForwarderException.class, () -> Forwarder.startAppender(config));
        assertTrue(
                refused.getMessage().contains("inside " + shared + ", which other users may write to (mode 777"),
                refused.getMessage());

        Files.setAttribute(shared, "unix:mode", 01777);
        try (Forwarder appender = Forwarder.startAppender(config)) {
            assertTrue(
                    appender.publish(DataType.CHAT_INFERENCE, "{\"id\":\"b\"}").accepted());
        }
    }
}
