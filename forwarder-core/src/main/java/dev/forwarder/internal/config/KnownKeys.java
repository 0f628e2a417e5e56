package dev.forwarder.internal.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The configuration keys, for a reader of another configuration system (the Spring Boot starter): which
 * keys hold a value, and which hold a table passed through as it is. From {@link ConfigKeys}, the one table.
 */
public final class KnownKeys {

    private KnownKeys() {}

    /** The full paths of the keys that hold one value ({@code gateway.observability.kafka.brokers}). */
    public static List<String> values() {
        List<String> out = new ArrayList<>();
        for (ConfigKeys.Key key : ConfigKeys.all()) {
            if (key.type() != ConfigKeys.Type.TABLE && key.type() != ConfigKeys.Type.PASSTHROUGH) {
                out.add(key.path());
            }
        }
        return out;
    }

    /** The full paths of the tables passed through as they are (the producer's own properties). */
    public static List<String> passthrough() {
        List<String> out = new ArrayList<>();
        for (ConfigKeys.Key key : ConfigKeys.all()) {
            if (key.type() == ConfigKeys.Type.PASSTHROUGH) {
                out.add(key.path());
            }
        }
        return out;
    }

    /** What a key holds, as {@code boolean}, {@code integer}, {@code bytes}, ... (for IDE metadata). */
    public static String typeOf(String path) {
        ConfigKeys.Key key = ConfigKeys.at(path);
        return key == null ? null : key.type().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The values a key allows, when it is one of a few ({@code on_full}: drop_newest, ...); else empty. */
    public static List<String> choicesOf(String path) {
        ConfigKeys.Key key = ConfigKeys.at(path);
        if (key == null) {
            return List.of();
        }
        if (key.type() == ConfigKeys.Type.ENUM) {
            return key.enumNames();
        }
        return key.type() == ConfigKeys.Type.CHOICE ? List.copyOf(new java.util.TreeSet<>(key.choices())) : List.of();
    }
}
