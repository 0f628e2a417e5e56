package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sealing log that spares a forwarder's start reading every unforwarded record: what it says, and that a
 * start still refuses a spool holding records sealed with a key it lacks, whether the log names the key, is
 * whole, or is missing (a spool from before the log).
 */
class SealingLogTest {

    @TempDir
    Path dir;

    @Test
    void linesAreReadAsWrittenAndATornLineDoesNotCount() throws Exception {
        SealingLog log = new SealingLog(dir);
        assertEquals(new SealingLog.Contents(Set.of(), false), log.read(), "no file: nothing known");
        log.beforeSealing(5);
        log.beforeSealing(5);
        log.beforeSealing(0xfffffff7);
        assertEquals(new SealingLog.Contents(Set.of(5, 0xfffffff7), false), log.read());
        assertEquals(2, Files.readAllLines(dir.resolve(SealingLog.FILE)).size(), "a key is logged once");
        log.complete(Set.of(9));
        assertEquals(new SealingLog.Contents(Set.of(5, 9, 0xfffffff7), true), log.read());
        Files.writeString(dir.resolve(SealingLog.FILE), "sealed 0000000a", StandardOpenOption.APPEND);
        assertEquals(new SealingLog.Contents(Set.of(5, 9, 0xfffffff7), true), log.read(), "torn line");

        Path other = Files.createDirectory(dir.resolve("other"));
        Files.writeString(other.resolve(SealingLog.FILE), "sealed 00000001\ncomplet");
        assertFalse(new SealingLog(other).read().complete(), "a torn complete line");
        Files.writeString(other.resolve(SealingLog.FILE), "sealed 00000001\nsomething else\ncomplete\n");
        assertFalse(new SealingLog(other).read().complete(), "a line not of the log: read the spool instead");
    }

    @Test
    void theRecordsAreReadUnlessTheLogIsWholeAndNamesOnlyKeysAtHand() throws Exception {
        SpoolKeys keys = SpoolKeys.load(SealedRecordTest.keyFile(dir, "k", SealedRecordTest.newKey()));
        int held = keys.activeId();
        assertTrue(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(), false), keys));
        assertTrue(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(), false), null));
        assertFalse(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(), true), null), "never encrypted");
        assertFalse(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(held), true), keys));
        assertTrue(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(held), true), null));
        assertTrue(OpenSpool.mustReadRecords(new SealingLog.Contents(Set.of(held, held + 1), true), keys));
    }

    @Test
    void aStartWithoutTheKeyIsRefusedWhateverTheLogSays() throws Exception {
        Path spoolDir = dir.resolve("spool");
        Path keyFile = SealedRecordTest.keyFile(dir, "k", SealedRecordTest.newKey());
        ForwarderConfig.Kafka withKey = config(spoolDir, keyFile);
        ForwarderConfig.Kafka without = config(spoolDir, null);

        // A spool never encrypted: the first start reads it and completes the log; it names no key.
        appendAsAppender(without, 20);
        start(without);
        assertEquals(new SealingLog.Contents(Set.of(), true), new SealingLog(spoolDir).read());
        start(without);

        // An appender seals with a key: it logs the key first; a start without it is refused, with it starts.
        appendAsAppender(withKey, 10);
        int id = SpoolKeys.load(keyFile).activeId();
        assertEquals(new SealingLog.Contents(Set.of(id), true), new SealingLog(spoolDir).read());
        refused(without, 10, id);
        start(withKey);

        // A spool from before the log (records sealed, no log): read whole, refused, then logged as found.
        Files.delete(spoolDir.resolve(SealingLog.FILE));
        refused(without, 10, id);
        assertFalse(new SealingLog(spoolDir).read().complete(), "a refused start completes nothing");
        start(withKey);
        assertEquals(new SealingLog.Contents(Set.of(id), true), new SealingLog(spoolDir).read());
        refused(without, 10, id);
    }

    private static ForwarderConfig.Kafka config(Path spoolDir, Path keyFile) {
        return ForwarderConfig.parse("gateway.observability.kafka.spool {\n"
                        + "  dir = \"" + spoolDir + "\"\n"
                        + (keyFile == null ? "" : "  encryption.key_file = \"" + keyFile + "\"\n")
                        + "}")
                .kafka();
    }

    private static void appendAsAppender(ForwarderConfig.Kafka config, int n) throws Exception {
        try (OpenSpool open = OpenSpool.open(config, false, RollPeriod.HOURLY)) {
            for (int i = 0; i < n; i++) {
                open.spool()
                        .append(
                                DataType.CHAT_INFERENCE,
                                System.currentTimeMillis(),
                                ("k" + i).getBytes(StandardCharsets.UTF_8),
                                "{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8),
                                null);
            }
        }
    }

    private static void start(ForwarderConfig.Kafka config) throws Exception {
        OpenSpool.open(config, true, RollPeriod.HOURLY).close();
    }

    private static void refused(ForwarderConfig.Kafka config, int records, int id) {
        ForwarderException e = assertThrows(ForwarderException.class, () -> start(config));
        assertTrue(
                e.getMessage().contains(records + " unforwarded records sealed with key " + SpoolKeys.name(id)),
                e.getMessage());
    }
}
