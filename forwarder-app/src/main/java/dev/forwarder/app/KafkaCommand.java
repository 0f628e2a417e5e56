package dev.forwarder.app;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "kafka",
        mixinStandardHelpOptions = true,
        description = "Run the embedded single-node Kafka alone, for local development (PLAINTEXT on 127.0.0.1).")
final class KafkaCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "9092", description = "Listener port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            defaultValue = "forwarder-data/kafka",
            description = "Data directory (default: ${DEFAULT-VALUE}).")
    Path data;

    @Override
    public Integer call() throws Exception {
        Shutdown shutdown = new Shutdown();
        int controllerPort;
        try (ServerSocket s = new ServerSocket(0)) {
            controllerPort = s.getLocalPort();
        }
        try (EmbeddedKafka kafka = new EmbeddedKafka(data, port, controllerPort)) {
            kafka.start();
            System.out.println("Kafka listening on " + kafka.bootstrapServers() + " (data in " + data
                    + "). Ctrl-C or SIGTERM to stop.");
            System.out.flush();
            shutdown.await();
            System.out.println("Stopping Kafka...");
        }
        return 0;
    }
}
