package dev.forwarder.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.forwarder.internal.config.ConfigKeys.Key;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Reads each key by its type in {@link ConfigKeys} from a resolved tree. A bad value is recorded as an
 * error naming the full key, the value and what is allowed ({@code gateway.observability.kafka.linger_ms:
 * invalid value -5: must be at least 0}) and a placeholder is returned, so that every error of a file is
 * reported in one run. A secret's value never appears in an error.
 */
final class ConfigReader {

    private final Config config;
    private final List<String> errors;

    ConfigReader(Config config, List<String> errors) {
        this.config = config;
        this.errors = errors;
    }

    boolean has(Key key) {
        return config.hasPath(key.path());
    }

    boolean bool(Key key) {
        String path = key.path();
        try {
            return config.getBoolean(path);
        } catch (ConfigException.WrongType e) {
            error(path, render(path), "must be true or false");
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        }
        return false;
    }

    String string(Key key) {
        return string(key.path());
    }

    private String string(String path) {
        try {
            ConfigValue value = config.getValue(path);
            if (value.valueType() == ConfigValueType.OBJECT || value.valueType() == ConfigValueType.LIST) {
                error(path, value.render(), "must be a string");
                return null;
            }
            return config.getString(path);
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a string");
        }
        return null;
    }

    /** A string the key's table needs when it is there (the SASL user name). */
    String requiredString(Key key) {
        String path = key.path();
        if (!config.hasPath(path)) {
            errors.add(path + ": missing (required when " + key.parent() + " is set)");
            return null;
        }
        String value = string(path);
        if (value != null && value.isEmpty()) {
            error(path, "\"\"", "must not be empty");
        }
        return value;
    }

    /** Like {@link #requiredString}, but the value never appears in an error. */
    String requiredSecret(Key key) {
        String path = key.path();
        if (!config.hasPath(path)) {
            errors.add(path + ": missing (required when " + key.parent() + " is set)");
            return null;
        }
        try {
            String value = config.getString(path);
            if (value.isEmpty()) {
                errors.add(path + ": must not be empty");
            }
            return value;
        } catch (ConfigException e) {
            errors.add(path + ": must be a string (value not shown)");
            return null;
        }
    }

    /** A secret that may be absent (null). */
    String optionalSecret(Key key) {
        String path = key.path();
        if (!config.hasPath(path)) {
            return null;
        }
        try {
            return config.getString(path);
        } catch (ConfigException e) {
            errors.add(path + ": must be a string (value not shown)");
            return null;
        }
    }

    int integer(Key key) {
        String path = key.path();
        long min = key.min();
        long max = key.max();
        try {
            ConfigValue value = config.getValue(path);
            if (value.valueType() != ConfigValueType.NUMBER) {
                error(path, value.render(), "must be an integer from " + min + " to " + max);
                return (int) min;
            }
            Number number = (Number) value.unwrapped();
            if (number.doubleValue() != Math.rint(number.doubleValue())) {
                error(path, value.render(), "must be an integer from " + min + " to " + max);
                return (int) min;
            }
            long v = number.longValue();
            if (v < min) {
                error(path, Long.toString(v), "must be at least " + min);
                return (int) min;
            }
            if (v > max) {
                error(path, Long.toString(v), "must be at most " + max);
                return (int) max;
            }
            return (int) v;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
            return (int) min;
        }
    }

    long bytes(Key key) {
        String path = key.path();
        long min = key.min();
        try {
            long v = config.getBytes(path);
            if (v < min) {
                error(
                        path,
                        render(path),
                        "must be at least " + min + " bytes" + (min >= 1 << 20 ? " (" + (min >> 20) + " MiB)" : ""));
            }
            return v;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a size such as 1GiB, 512MiB or a number of bytes");
        }
        return min;
    }

    Duration duration(Key key) {
        String path = key.path();
        try {
            Duration d = config.getDuration(path);
            if (d.isNegative()) {
                error(path, render(path), "must not be negative");
            }
            return d;
        } catch (ConfigException.Missing e) {
            errors.add(path + ": missing");
        } catch (ConfigException e) {
            error(path, render(path), "must be a duration such as 0s, 30m, 24h or 7d");
        }
        return Duration.ZERO;
    }

    /** One of the key's choices, after {@code normalise} (the case choices are written in). */
    String choice(Key key, Function<String, String> normalise) {
        String raw = string(key.path());
        if (raw == null) {
            return null;
        }
        String value = normalise.apply(raw);
        if (!key.choices().contains(value)) {
            error(key.path(), quote(raw), "must be one of " + sorted(key.choices()));
        }
        return value;
    }

    /** One of the key's enum constants, in any case; the first constant if the value is bad. */
    <E extends Enum<E>> E enumValue(Key key, Class<E> type) {
        String raw = string(key.path());
        if (raw == null) {
            return type.getEnumConstants()[0];
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(raw)) {
                return constant;
            }
        }
        error(key.path(), quote(raw), "must be one of " + String.join("|", key.enumNames()));
        return type.getEnumConstants()[0];
    }

    /** A readable file, or null when the key is absent. */
    Path file(Key key) {
        if (!config.hasPath(key.path())) {
            return null;
        }
        String value = string(key.path());
        if (value == null) {
            return null;
        }
        Path file = Path.of(value);
        if (!Files.isReadable(file)) {
            error(key.path(), quote(value), "must be a readable file");
        }
        return file;
    }

    /** A key store type: PKCS12 when absent. */
    String storeType(Key key) {
        if (!config.hasPath(key.path())) {
            return "PKCS12";
        }
        String value = choice(key, s -> s.toUpperCase(Locale.ROOT));
        return value == null ? "PKCS12" : value;
    }

    /** The value at {@code path} as written, for an error message. */
    String render(String path) {
        try {
            return config.getValue(path).render();
        } catch (ConfigException e) {
            return "?";
        }
    }

    void error(String path, String value, String allowed) {
        errors.add(path + ": invalid value " + value + ": " + allowed);
    }

    void error(String message) {
        errors.add(message);
    }

    static String quote(String s) {
        return "\"" + s + "\"";
    }

    static String sorted(Set<String> values) {
        return String.join("|", new TreeSet<>(values));
    }
}
