package dev.forwarder.internal.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code <dir>/sealing-keys}: the keys that ever sealed a record of the spool, so that a forwarder's start need
 * not read every unforwarded record to learn them (the check that it holds them, {@link OpenSpool}). Lines
 * appended, each on the disk before it counts (written with {@code O_DSYNC}; a torn last line does not count):
 *
 * <ul>
 *   <li>{@code sealed <key id>}: written by any process before the first record it seals with that key;
 *   <li>{@code complete}: written by a forwarder whose start read every unforwarded record and logged the keys
 *       it found. From then on the {@code sealed} lines name at least every key of every unforwarded record:
 *       those read were logged, and every later record's key is logged before the record is appended.
 * </ul>
 *
 * A spool without a {@code complete} line (made before this file existed, or never started by a forwarder) is
 * read whole at the start, as before, and then gets one. Processes append concurrently (each line one write
 * with {@code O_APPEND}). A process of an older version appending to the same spool does not log its keys;
 * the forwarder then finds a record whose key it lacks while forwarding, and waits on it, never skipping it.
 */
final class SealingLog {

    static final String FILE = "sealing-keys";
    private static final String SEALED = "sealed ";
    private static final String COMPLETE = "complete";

    private final Path file;
    /** The key this process logged last: the usual check before an append is this one comparison. */
    private volatile int lastLogged;

    private volatile boolean anyLogged;

    SealingLog(Path dir) {
        this.file = dir.resolve(FILE);
    }

    /** What the log says. */
    record Contents(Set<Integer> keyIds, boolean complete) {}

    /** Before a record sealed with {@code keyId} is appended: logs the key unless this process already did. */
    void beforeSealing(int keyId) {
        if (anyLogged && lastLogged == keyId) {
            return;
        }
        synchronized (this) {
            if (anyLogged && lastLogged == keyId) {
                return;
            }
            append(SEALED + SpoolKeys.name(keyId) + "\n");
            lastLogged = keyId;
            anyLogged = true;
        }
    }

    /** After a start read every unforwarded record: the keys found, then the line that makes the log whole. */
    void complete(Set<Integer> keyIds) {
        StringBuilder lines = new StringBuilder();
        for (int id : keyIds) {
            lines.append(SEALED).append(SpoolKeys.name(id)).append('\n');
        }
        append(lines.append(COMPLETE).append('\n').toString());
    }

    Contents read() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return new Contents(Set.of(), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Set<Integer> ids = new TreeSet<>();
        boolean complete = false;
        int end = text.lastIndexOf('\n'); // a line without its newline was torn by a crash: not counted
        for (String line : text.substring(0, end + 1).split("\n")) {
            if (line.equals(COMPLETE)) {
                complete = true;
            } else if (line.startsWith(SEALED)) {
                try {
                    ids.add(Integer.parseUnsignedInt(line.substring(SEALED.length()), 16));
                } catch (NumberFormatException e) {
                    return new Contents(ids, false); // not ours: read the spool instead
                }
            } else if (!line.isEmpty()) {
                return new Contents(ids, false);
            }
        }
        return new Contents(ids, complete);
    }

    private void append(String lines) {
        try {
            boolean created = !Files.exists(file);
            Files.writeString(
                    file,
                    lines,
                    StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.DSYNC);
            if (created) {
                OwnerOnly.file(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
