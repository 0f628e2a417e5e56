package dev.forwarder.spring;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.internal.config.KnownKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * The forwarder's configuration from Spring's {@link Environment}: the keys of our HOCON
 * ({@code gateway.observability.*}, {@code forwarder.*}) from {@code application.yml} or
 * {@code .properties}, profiles, the command line, system properties and environment variables, with Spring's
 * relaxed binding ({@code spool.max-bytes}, {@code spool.max_bytes}, {@code spool.maxBytes} and
 * {@code GATEWAY_OBSERVABILITY_KAFKA_SPOOL_MAXBYTES} are one key), over an optional file
 * ({@code forwarder.config-file}: HOCON, JSON or {@code tensorzero.toml}) and our defaults. The values are
 * checked by the forwarder's own parser, so a bad value or an unknown key under our prefixes (in a file or on
 * the command line; environment variables are too many to judge) fails with its message, naming the key.
 */
final class EnvironmentConfig {

    /** The Spring-only key of the file to read under the application's properties. */
    static final String CONFIG_FILE = "forwarder.config-file";

    private static final List<String> PREFIXES = List.of("gateway.observability.", "forwarder.");
    /** Keys under our prefixes that are the starter's own, not the forwarder's. */
    private static final List<ConfigurationPropertyName> STARTER_KEYS = List.of(
            ConfigurationPropertyName.of(CONFIG_FILE), ConfigurationPropertyName.of("forwarder.spring.enabled"));

    private EnvironmentConfig() {}

    static ForwarderConfig read(Environment environment) {
        Binder binder = Binder.get(environment);
        Map<String, Object> tree = new LinkedHashMap<>();
        List<ConfigurationPropertyName> known = new ArrayList<>(STARTER_KEYS);
        for (String path : KnownKeys.values()) {
            ConfigurationPropertyName name = springName(path);
            known.add(name);
            // One value, or a YAML list (brokers as [a:9092, b:9092]) joined with commas as the key expects.
            String value = binder.bind(name, Bindable.of(String.class))
                    .orElseGet(() -> binder.bind(name, Bindable.listOf(String.class))
                            .map(list -> String.join(",", list))
                            .orElse(null));
            if (value != null) {
                tree.put(path, typed(path, value));
            }
        }
        List<ConfigurationPropertyName> passthrough = new ArrayList<>();
        for (String path : KnownKeys.passthrough()) {
            ConfigurationPropertyName name = springName(path);
            passthrough.add(name);
            binder.bind(name, Bindable.mapOf(String.class, String.class))
                    .ifBound(map -> map.forEach((k, v) -> tree.put(path + "." + ConfigUtil.quoteString(k), v)));
        }
        List<String> errors = new ArrayList<>();
        unknownKeys(environment, known, passthrough, tree, errors);
        Config base = binder.bind(CONFIG_FILE, String.class)
                .map(file -> ForwarderConfig.readFile(Path.of(file)))
                .orElse(ConfigFactory.empty());
        Config fromSpring;
        try {
            fromSpring = ConfigFactory.parseMap(tree, "Spring Boot's environment");
        } catch (ConfigException e) {
            throw new ForwarderConfigException(List.of(e.getMessage()));
        }
        try {
            ForwarderConfig config = ForwarderConfig.from(fromSpring.withFallback(base));
            if (errors.isEmpty()) {
                return config;
            }
        } catch (ForwarderConfigException e) {
            errors.addAll(e.errors());
        }
        throw new ForwarderConfigException(errors);
    }

    /**
     * Properties under our prefixes that are no key of ours: under {@code gateway.observability.kafka} they go
     * to the forwarder's parser as written, so that it refuses them by name and suggests the key meant; the
     * others are refused here. Environment variables are not judged: a machine has
     * many, and {@code FORWARDER_*} ones may belong to anything.
     */
    private static void unknownKeys(
            Environment environment,
            List<ConfigurationPropertyName> known,
            List<ConfigurationPropertyName> passthrough,
            Map<String, Object> tree,
            List<String> errors) {
        if (!(environment instanceof ConfigurableEnvironment configurable)) {
            return;
        }
        for (PropertySource<?> source : configurable.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> enumerable)
                    || StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME.equals(source.getName())
                    || source.getName().startsWith("configurationProperties")) {
                continue;
            }
            for (String property : enumerable.getPropertyNames()) {
                if (PREFIXES.stream().noneMatch(property::startsWith) || property.contains("[")) {
                    continue;
                }
                ConfigurationPropertyName name = ConfigurationPropertyName.adapt(property, '.');
                if (known.contains(name) || passthrough.stream().anyMatch(p -> p.isAncestorOf(name))) {
                    continue;
                }
                String ours = property.replace('-', '_');
                if (ours.startsWith("gateway.observability.kafka.")) {
                    // The parser refuses it by name and suggests the key meant.
                    tree.putIfAbsent(ours, String.valueOf(enumerable.getProperty(property)));
                } else if (!errors.contains(ours + ": unknown key")) {
                    errors.add(ours + ": unknown key");
                }
            }
        }
    }

    /**
     * Spring's properties are text; our parser wants numbers and booleans as such (as a HOCON file holds them).
     * A value that is not one is left as text, for the parser to refuse naming the key.
     */
    private static Object typed(String path, String value) {
        String type = KnownKeys.typeOf(path);
        String v = value.trim();
        if ("integer".equals(type) && v.matches("-?[0-9]{1,18}")) {
            return Long.parseLong(v);
        }
        if ("boolean".equals(type) && (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(v);
        }
        return value;
    }

    /** Spring's canonical form of one of our keys: {@code spool.max_bytes} is {@code spool.max-bytes}. */
    static ConfigurationPropertyName springName(String path) {
        return ConfigurationPropertyName.of(path.replace('_', '-'));
    }
}
