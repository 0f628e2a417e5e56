package dev.forwarder.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.forwarder.ForwarderConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A configuration file read by its extension: TensorZero's TOML, JSON, or HOCON. */
public final class ConfigFiles {

    private ConfigFiles() {}

    /**
     * A configuration file as written, without defaults: TensorZero TOML ({@code .toml}), JSON
     * ({@code .json}) or HOCON (anything else).
     *
     * @throws ForwarderConfigException if it is missing or does not parse
     */
    public static Config read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ForwarderConfigException(List.of("configuration file " + file + " does not exist"));
        }
        String name = file.getFileName().toString();
        if (name.endsWith(".toml")) {
            return TomlReader.read(file);
        }
        ConfigSyntax syntax = name.endsWith(".json") ? ConfigSyntax.JSON : ConfigSyntax.CONF;
        try {
            return ConfigFactory.parseFile(
                    file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(syntax).setAllowMissing(false));
        } catch (ConfigException e) {
            throw new ForwarderConfigException(List.of(e.getMessage())); // names the file and line itself
        }
    }
}
