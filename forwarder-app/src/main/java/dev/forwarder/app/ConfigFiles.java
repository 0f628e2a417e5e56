package dev.forwarder.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.internal.config.TomlReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The configuration file a command was given, as the user wrote it and as the forwarder reads it. */
final class ConfigFiles {

    static final String BROKERS = "gateway.observability.kafka.brokers";

    private ConfigFiles() {
    }

    /** The tree as written (no defaults); empty when no file is given. */
    static Config tree(Path file) {
        if (file == null) {
            return ConfigFactory.empty();
        }
        if (!Files.isRegularFile(file)) {
            throw new ForwarderConfigException(List.of("configuration file " + file + " does not exist"));
        }
        return file.getFileName().toString().endsWith(".toml") ? TomlReader.read(file)
                : ConfigFactory.parseFile(file.toFile());
    }

    /** True when neither the file nor a system property names the brokers. */
    static boolean brokersConfigured(Config tree) {
        return tree.hasPath(BROKERS) || ConfigFactory.defaultOverrides().hasPath(BROKERS);
    }

    static ForwarderConfig withBrokers(Config tree, String brokers) {
        return ForwarderConfig.from(tree.withValue(BROKERS, ConfigValueFactory.fromAnyRef(brokers)));
    }
}
