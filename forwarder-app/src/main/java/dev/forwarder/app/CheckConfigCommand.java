package dev.forwarder.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(
        name = "check-config",
        mixinStandardHelpOptions = true,
        description = {
            "Validate a configuration file and print the effective configuration, secrets masked.",
            "Exit status 0 when valid, 2 with every error listed when not."
        })
final class CheckConfigCommand implements Callable<Integer> {

    private static final List<String> SECRETS = List.of(
            "gateway.observability.kafka.sasl.password",
            "gateway.observability.kafka.tls.key_password",
            "gateway.observability.kafka.tls.truststore_password",
            "gateway.observability.kafka.tls.keystore_password",
            "forwarder.http.token");

    @Parameters(paramLabel = "FILE", description = "tensorzero.toml, HOCON (.conf) or JSON (.json).")
    Path file;

    @Override
    public Integer call() {
        ForwarderConfig config;
        Config tree;
        try {
            tree = ConfigFiles.tree(file);
            config = ForwarderConfig.from(tree);
        } catch (ForwarderConfigException e) {
            System.err.println(file + ": " + e.getMessage());
            return 2;
        }
        Config effective = ConfigFactory.defaultOverrides()
                .withFallback(tree)
                .withFallback(ConfigFactory.defaultReference(ForwarderConfig.class.getClassLoader()))
                .resolve();
        for (String secret : SECRETS) {
            if (effective.hasPath(secret) && !effective.getString(secret).isEmpty()) {
                effective = effective.withValue(secret, ConfigValueFactory.fromAnyRef("****"));
            }
        }
        Config shown =
                effective.withOnlyPath("gateway.observability").withFallback(effective.withOnlyPath("forwarder"));
        System.out.println("# " + file + " is valid. Effective configuration (defaults filled in, secrets masked):");
        System.out.println(shown.root()
                .render(ConfigRenderOptions.concise().setFormatted(true).setJson(false)));
        System.out.println("# derived: security_protocol = " + config.kafka().securityProtocol());
        config.kafka().securityWarning().ifPresent(warning -> System.out.println("# warning: " + warning));
        return 0;
    }
}
