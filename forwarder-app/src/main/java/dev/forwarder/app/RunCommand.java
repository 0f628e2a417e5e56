package dev.forwarder.app;

import com.typesafe.config.Config;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.ForwarderException;
import dev.forwarder.ForwarderStatus;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Forward a spool to Kafka and serve HTTP ingest, metrics and status.",
            "With no brokers configured (no --config, or a file without gateway.observability.kafka.brokers),"
                    + " an embedded single-node Kafka starts on 127.0.0.1:9092 with its data in forwarder-data/kafka.",
            "SIGTERM or Ctrl-C: stop accepting, drain within spool.drain_timeout_ms, persist the checkpoint, exit 0."
        })
final class RunCommand implements Callable<Integer> {

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "Configuration: tensorzero.toml, HOCON (.conf) or JSON (.json).")
    Path config;

    @Option(
            names = "--kafka-data",
            paramLabel = "DIR",
            defaultValue = "forwarder-data/kafka",
            description = "Data directory of the embedded Kafka (default: ${DEFAULT-VALUE}).")
    Path kafkaData;

    @Override
    public Integer call() throws Exception {
        Shutdown shutdown = new Shutdown();
        EmbeddedKafka embedded = null;
        ForwarderConfig settings;
        try {
            Config tree = ConfigFiles.tree(config);
            if (ConfigFiles.brokersConfigured(tree)) {
                settings = ForwarderConfig.from(tree);
            } else {
                embedded = new EmbeddedKafka(kafkaData, 9092, 9093);
                System.out.println("No brokers configured: starting an embedded Kafka on 127.0.0.1:9092 (data in "
                        + kafkaData + ")");
                embedded.start();
                settings = ConfigFiles.withBrokers(tree, embedded.bootstrapServers());
            }
        } catch (ForwarderConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        if (settings.http().enabled() && settings.http().tls() != null) {
            try {
                ServerCertificate.load(settings.http().tls()); // a certificate that cannot serve stops the start
            } catch (IllegalArgumentException e) {
                System.err.println("cannot start: " + e.getMessage());
                if (embedded != null) {
                    embedded.close();
                }
                return 2;
            }
        }
        Forwarder forwarder;
        try {
            forwarder = Forwarder.start(settings);
        } catch (ForwarderException e) {
            System.err.println("cannot start: " + e.getMessage());
            if (embedded != null) {
                embedded.close();
            }
            return 1;
        }
        HttpIngest http = null;
        if (settings.http().enabled()) {
            http = new HttpIngest(forwarder, settings.http());
            http.start();
        }
        ForwarderConfig.Kafka kafka = settings.kafka();
        System.out.println("Forwarding spool " + kafka.spool().dir().toAbsolutePath() + " to Kafka at "
                + kafka.brokers() + " (topics " + kafka.topicPrefix() + "_{model,chat,json}_inference)");
        if (http != null) {
            System.out.println("HTTP on " + (settings.http().tls() == null ? "http" : "https") + "://"
                    + settings.http().host() + ":" + http.port()
                    + "  POST /v1/events/{data_type}, GET /metrics /status /health/live /health/ready");
        }
        if (embedded != null) {
            System.out.println("Read the topics with any Kafka client, e.g.:");
            System.out.println("  kcat -b 127.0.0.1:9092 -C -t " + kafka.topicPrefix() + "_chat_inference");
            System.out.println("  kafka-console-consumer.sh --bootstrap-server 127.0.0.1:9092 --topic "
                    + kafka.topicPrefix() + "_chat_inference --from-beginning");
        }
        System.out.println("Ctrl-C or SIGTERM to stop.");
        System.out.flush();
        shutdown.await();

        System.out.println("Stopping: no new records; draining what is spooled (at most "
                + kafka.spool().drainTimeoutMs() + " ms)...");
        if (http != null) {
            http.stopAccepting();
        }
        forwarder.close();
        ForwarderStatus status = forwarder.status();
        if (http != null) {
            http.close();
        }
        if (embedded != null) {
            embedded.close();
        }
        System.out.println("Stopped: " + status.appended() + " appended, " + status.delivered() + " delivered, "
                + status.backlog() + " left in the spool for the next start, checkpoint " + status.checkpoint());
        return 0;
    }
}
