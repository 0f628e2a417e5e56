package dev.forwarder.internal.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint file: survives reopening, and a torn slot falls back to the other one. */
class CheckpointTest {

    @TempDir
    Path dir;

    @Test
    void newFileHasNoCheckpointAndValuesSurviveReopening() throws Exception {
        Path file = dir.resolve("checkpoint");
        try (Checkpoint c = new Checkpoint(file)) {
            assertEquals(Checkpoint.NONE, c.read());
            c.advance(10);
            c.advance(5); // never backwards
            c.advance(42);
        }
        assertEquals(42, Checkpoint.readFile(file));
        try (Checkpoint c = new Checkpoint(file)) {
            c.advance(43);
        }
        assertEquals(43, Checkpoint.readFile(file));
    }

    @Test
    void aTornLatestSlotFallsBackToThePreviousValue() throws Exception {
        Path file = dir.resolve("checkpoint");
        try (Checkpoint c = new Checkpoint(file)) {
            c.advance(100); // slot A
            c.advance(200); // slot B
        }
        // Tear slot B: the index written, its checksum not.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 16 + 8);
        }
        assertEquals(100, Checkpoint.readFile(file));
        assertEquals(Checkpoint.NONE, Checkpoint.readFile(dir.resolve("absent")));
    }
}
