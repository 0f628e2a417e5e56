package dev.forwarder.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.utils.Time;

/**
 * A single-node Kafka (KRaft, broker and controller in one) inside this process, for running with no
 * set-up: {@code run} with no brokers configured, {@code kafka}, and {@code demo}. Data lives in
 * {@code dataDir} and survives restarts. Listens on 127.0.0.1 only. Not for production: one node, no
 * replication, no security.
 */
final class EmbeddedKafka implements AutoCloseable {

    private static final String CLUSTER_ID = "ForwarderEmbeddedKafka";

    private final Path dataDir;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    EmbeddedKafka(Path dataDir, int port, int controllerPort) {
        this.dataDir = dataDir.toAbsolutePath();
        this.port = port;
        this.controllerPort = controllerPort;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Formats the data directory the first time, then starts the broker; returns once it is started. */
    synchronized void start() throws IOException {
        Files.createDirectories(dataDir);
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", dataDir.resolve("logs").toString());
        props.put("num.partitions", "3");
        props.put("offsets.topic.replication.factor", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("broker.heartbeat.interval.ms", "500");
        props.put("broker.session.timeout.ms", "3000");
        if (!Files.exists(dataDir.resolve("logs/meta.properties"))) {
            Path file = dataDir.resolve("server.properties");
            try (var out = Files.newOutputStream(file)) {
                props.store(out, "embedded Kafka of the forwarder");
            }
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int status = StorageTool.execute(
                    new String[] {"format", "-t", CLUSTER_ID, "-c", file.toString(), "--ignore-formatted"},
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            if (status != 0) {
                throw new IOException("formatting the embedded Kafka's storage in " + dataDir + " failed: " + log);
            }
        }
        server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
    }

    /** A controlled shutdown; the data stays. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }
}
