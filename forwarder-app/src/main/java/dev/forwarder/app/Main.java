package dev.forwarder.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The standalone forwarder: {@code java -jar forwarder-app/target/forwarder.jar <command>}.
 */
@Command(
        name = "forwarder",
        mixinStandardHelpOptions = true,
        version = "forwarder 0.1.0-SNAPSHOT",
        description = "Durable forwarder of LLM inference events into Apache Kafka.",
        subcommands = {
            RunCommand.class,
            DemoCommand.class,
            StatusCommand.class,
            DumpCommand.class,
            ReplayCommand.class,
            RedriveCommand.class,
            CheckConfigCommand.class,
            KafkaCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
