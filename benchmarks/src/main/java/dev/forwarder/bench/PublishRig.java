package dev.forwarder.bench;

import dev.forwarder.Forwarder;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * What the request-path benchmarks compare, for one trial: a forwarder on a fresh spool with room for every
 * record of the trial (a full spool would make the figures those of drops) and a bare producer, both
 * against a real broker ({@code up}) or an address where nothing listens ({@code down}).
 */
final class PublishRig implements AutoCloseable {

    /** Settings added to the forwarder's, given its spool directory (e.g. the encryption key file there). */
    interface Extra {
        String settings(Path spool) throws IOException;
    }

    final KafkaBroker kafka;
    final Forwarder forwarder;
    final KafkaProducer<byte[], byte[]> producer;
    private final Path spool;

    PublishRig(String broker, String name, Extra extra) throws Exception {
        String brokers;
        if (broker.equals("up")) {
            kafka = BenchmarkBroker.start();
            brokers = kafka.bootstrapServers();
        } else {
            kafka = null;
            brokers = BenchmarkBroker.nowhere();
        }
        spool = BenchmarkBroker.tempDir(name);
        forwarder = Forwarder.start(TestConfig.forBroker(brokers, spool)
                .with("gateway.observability.kafka {\n"
                        + "  startup.require_connection = " + broker.equals("up") + "\n"
                        + "  spool.drain_timeout_ms = 1000\n"
                        + "  spool.max_bytes = 16GiB\n"
                        + extra.settings(spool)
                        + "}")
                .build());
        producer = BenchmarkBroker.bareProducer(brokers);
    }

    /** Closes everything; says so if the forwarder dropped publishes (its figures would mix in drops). */
    @Override
    public void close() throws Exception {
        producer.close(Duration.ZERO);
        long dropped = forwarder.status().dropped().values().stream()
                .mapToLong(Long::longValue)
                .sum();
        forwarder.close();
        if (dropped > 0) {
            System.out.println("WARNING: " + dropped + " publishes were dropped; the forwarder figures mix in drops");
        }
        BenchmarkBroker.delete(spool);
        if (kafka != null) {
            kafka.close();
        }
    }
}
