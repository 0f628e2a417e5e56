package dev.forwarder.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.forwarder.ForwarderConfig;
import java.nio.file.Path;

/** The configuration file a command was given, as the user wrote it and as the forwarder reads it. */
final class ConfigFiles {

    static final String BROKERS = "gateway.observability.kafka.brokers";

    private ConfigFiles() {}

    /** The tree as written (no defaults); empty when no file is given. */
    static Config tree(Path file) {
        return file == null ? ConfigFactory.empty() : ForwarderConfig.readFile(file);
    }

    /** True when neither the file nor a system property names the brokers. */
    static boolean brokersConfigured(Config tree) {
        return tree.hasPath(BROKERS) || ConfigFactory.defaultOverrides().hasPath(BROKERS);
    }

    static ForwarderConfig withBrokers(Config tree, String brokers) {
        return ForwarderConfig.from(tree.withValue(BROKERS, ConfigValueFactory.fromAnyRef(brokers)));
    }
}
