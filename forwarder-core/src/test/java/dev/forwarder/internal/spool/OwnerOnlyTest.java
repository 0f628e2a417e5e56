package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class OwnerOnlyTest {

    @TempDir
    Path dir;

    /**
     * Chronicle reports a roll file acquired that the forwarder deletes once forwarded; narrowing it then finds
     * it gone. Seen at every roll of a 10-minute run: "WARN cannot make .../20261130-12F.cq4 owner-only:
     * NoSuchFileException", a line an operator would ask about for a file that holds nothing any more.
     */
    @Test
    void aFileGoneBeforeItIsNarrowedIsNoWarning() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(OwnerOnly.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            OwnerOnly.file(dir.resolve("20261130-12F.cq4"));

            Path wide = Files.createFile(
                    dir.resolve("wide"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
            OwnerOnly.file(wide);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wide)));
        } finally {
            logger.detachAppender(logs);
        }
        List<String> warnings = logs.list.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
        assertEquals(List.of(), warnings);
    }

    /**
     * A second process opening a spool narrows its tree while the first renames its pre-created roll files
     * into place, deletes forwarded ones and makes and deletes its warm-up queue. A walk that met a name gone by
     * the time it read the entry failed the open (CI: "UncheckedIOException: NoSuchFileException:
     * .../queue/20261130-19F.precreating.3960...", met by a test's own walk of a spool).
     */
    @Test
    void aTreeWalkedWhileFilesComeAndGoIsNarrowedWithoutAnError() throws Exception {
        Path queue = Files.createDirectories(dir.resolve("queue"));
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> {
            for (long i = 0; !stop.get(); i++) {
                try {
                    Path made = Files.createFile(queue.resolve(i + ".precreating"));
                    Files.move(made, queue.resolve(i + ".precreated"));
                    Path sub = Files.createDirectories(queue.resolve("warm-up-" + i));
                    Files.createFile(sub.resolve("x.cq4"));
                    Files.delete(sub.resolve("x.cq4"));
                    Files.delete(sub);
                    Files.delete(queue.resolve(i + ".precreated"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        churn.start();
        try {
            for (int i = 0; i < 3_000; i++) {
                OwnerOnly.tree(dir);
            }
        } finally {
            stop.set(true);
            churn.join();
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(queue)));
    }
}
