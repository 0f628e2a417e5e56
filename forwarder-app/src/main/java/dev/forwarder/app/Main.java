package dev.forwarder.app;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The standalone forwarder's command line: {@code java -jar forwarder-app/target/forwarder.jar <command>}.
 *
 * <p>The commands of ../shared/DESIGN.md (run, demo, status, dump, replay, check-config, kafka) arrive with
 * the standalone-process work; until then this prints what the build contains.
 */
@Command(name = "forwarder", mixinStandardHelpOptions = true, version = "forwarder 0.1.0-SNAPSHOT",
        description = "Durable forwarder of LLM inference events into Apache Kafka.")
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
