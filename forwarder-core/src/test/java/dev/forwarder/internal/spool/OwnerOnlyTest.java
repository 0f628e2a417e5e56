package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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
}
