package dev.forwarder.app;

import dev.forwarder.DataType;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Reading a spool directory from the command line, while a forwarder runs on it or not. */
final class SpoolFiles {

    private SpoolFiles() {}

    /** What one step of a scan saw. */
    interface Visitor extends Spool.Visitor {}

    static Spool open(Path dir) throws IOException {
        return open(dir, null);
    }

    /** The spool in {@code dir}, opening sealed records with the keys in {@code keyFile} (null: none). */
    static Spool open(Path dir, Path keyFile) throws IOException {
        if (!Files.isDirectory(dir.resolve("queue"))) {
            throw new IOException("no spool in " + dir + " (expected " + dir.resolve("queue") + ")");
        }
        SpoolKeys keys = keyFile == null ? null : SpoolKeys.load(keyFile);
        return new Spool(dir).sealWith(keys);
    }

    static long checkpoint(Path dir) throws IOException {
        return Checkpoint.readFile(dir.resolve("checkpoint"));
    }

    /** Visits every record of the spool in {@code dir} from its start (sealed ones opened with {@code keyFile}). */
    static void scan(Path dir, Path keyFile, Visitor visitor) throws IOException {
        try (Spool spool = open(dir, keyFile)) {
            spool.scan(visitor);
        }
    }

    /** An instant ({@code 2026-11-26T10:00:00Z}) or an age ({@code 30s}, {@code 15m}, {@code 2h}, {@code 7d}). */
    static Instant time(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            String t = text.trim().toLowerCase(java.util.Locale.ROOT);
            if (t.matches("\\d+[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                Duration age = switch (t.charAt(t.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
                return Instant.now().minus(age);
            }
            throw new IllegalArgumentException("invalid time \"" + text + "\": give an instant such as"
                    + " 2026-11-26T10:00:00Z, or an age such as 30s, 15m, 2h or 7d");
        }
    }

    static DataType type(String name) {
        if (name == null) {
            return null;
        }
        return DataType.fromWireName(name)
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown data type \"" + name + "\"; use model_inference, chat_inference or json_inference"));
    }
}
