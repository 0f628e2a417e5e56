package dev.forwarder.app;

import dev.forwarder.DataType;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** The command line's ways of naming records: a time, a data type. */
final class SpoolFiles {

    private SpoolFiles() {}

    /** An instant ({@code 2026-11-26T10:00:00Z}) or an age ({@code 30s}, {@code 15m}, {@code 2h}, {@code 7d}). */
    static Instant time(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            String t = text.trim().toLowerCase(Locale.ROOT);
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
