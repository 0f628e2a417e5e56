package dev.forwarder.bench;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolIdentity;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The broker the benchmarks measure against: the test fixture's real Kafka broker, a child JVM on a free
 * loopback port, started once per benchmark trial. Also the spool directories the trials use.
 */
final class BenchmarkBroker {

    private BenchmarkBroker() {}

    static KafkaBroker start() {
        KafkaBroker broker = KafkaBroker.builder().build();
        broker.start();
        return broker;
    }

    /**
     * Three new topics of three partitions, each partition already written once (by a throwaway
     * producer), so that the measured run meets partitions that are fully led: the first produce to a
     * partition the broker has only just taken over can hit NOT_LEADER_OR_FOLLOWER and leave an
     * idempotent producer stuck retrying (KAFKA-14359), which is a start-up cost, not throughput.
     */
    static String freshTopics(KafkaBroker kafka) throws Exception {
        String prefix = "b" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String[] topics =
                Arrays.stream(DataType.values()).map(t -> t.topic(prefix)).toArray(String[]::new);
        kafka.createTopics(3, topics);
        Map<String, Object> props = new HashMap<>(kafka.clientProperties());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> warm =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String topic : topics) {
                for (int partition = 0; partition < 3; partition++) {
                    warm.send(new ProducerRecord<>(topic, partition, null, "warm-up".getBytes(StandardCharsets.UTF_8)))
                            .get(60, TimeUnit.SECONDS);
                }
            }
        }
        return prefix;
    }

    /** A loopback address where nothing listens (a port taken and released): the broker-down case. */
    static String nowhere() {
        return "127.0.0.1:" + Ports.unused(); // never a port this JVM's brokers were given
    }

    /**
     * The bare client the forwarder is compared with: a {@code KafkaProducer} with the forwarder's own producer
     * settings for the default configuration ({@link #forwarderProducerSettings}: acks=all, idempotence, lz4,
     * linger.ms=10, batch.size and buffer.memory from batch_size = 1000, max.in.flight 5, its time-outs), but
     * {@code max.block.ms} = 1000 (with the broker down, a full buffer fails a call after a second).
     */
    static KafkaProducer<byte[], byte[]> bareProducer(String brokers) {
        return bareProducer(brokers, "lz4");
    }

    /** As {@link #bareProducer(String)} with another {@code compression.type}. */
    static KafkaProducer<byte[], byte[]> bareProducer(String brokers, String compression) {
        Map<String, Object> props = new HashMap<>(forwarderProducerSettings(brokers, compression, 1000));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * The properties of the producer a forwarder on {@code brokers} makes ({@link ProducerSettings#producer}),
     * for {@code compression_type} and {@code batch_size} and the test kit's configuration otherwise.
     */
    static Map<String, Object> forwarderProducerSettings(String brokers, String compression, int batchSize) {
        ForwarderConfig config = TestConfig.forBroker(brokers, Path.of("bare-producer-has-no-spool"))
                .with("gateway.observability.kafka { compression_type = " + compression + ", batch_size = " + batchSize
                        + " }")
                .build();
        return ProducerSettings.producer(config.kafka());
    }

    /** The line that turns on {@code spool.encryption} with a fresh key in {@code spool} (deleted with it). */
    static String encryptionSetting(Path spool) throws IOException {
        Path file = spool.resolve("bench.keys");
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        Files.writeString(file, Base64.getEncoder().encodeToString(raw) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return "  spool.encryption.key_file = \"" + file + "\"\n";
    }

    /** Prints a result line and appends it to {@code benchmarks/results/latest/<file>}. */
    static void report(String file, String line) throws IOException {
        System.out.println();
        System.out.println(line);
        Path out = Path.of("benchmarks/results/latest");
        Files.createDirectories(out);
        Files.writeString(
                out.resolve(file),
                line + "\n",
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /**
     * Closes an append-only rig's forwarder after a last publish that must have been accepted (else the
     * figures were of drops) and deletes its spool.
     */
    static void closeAppender(Forwarder forwarder, byte[] json, Path spool) throws IOException {
        PublishResult probe = forwarder.publish(DataType.CHAT_INFERENCE, json);
        forwarder.close();
        delete(spool);
        if (!probe.accepted()) {
            throw new IllegalStateException("the spool refused records, so the figures are of drops: " + probe);
        }
    }

    /**
     * A spool opened as an appending process opens it, this boot recorded in it, so that the forwarder started on
     * it after the backlog is written finds the same boot (opened bare, a spool records none, and the forwarder
     * took it for a restart of the machine: a warning, and its appends moved to a new roll file).
     */
    static Spool openForAppends(Path dir) throws IOException {
        Spool spool = new Spool(dir);
        try {
            spool.prepareForAppends(false, SpoolIdentity.bootId());
            return spool;
        } catch (IOException | RuntimeException e) {
            spool.close();
            throw e;
        }
    }

    /**
     * Appends a backlog of {@code n} ~1 KB records of the three types in turn, keyed by their ids, as a
     * spool holds them after an outage; returns the last one's index.
     */
    static long appendBacklog(Spool spool, int n) {
        UUID run = UUID.randomUUID();
        long last = -1;
        for (int i = 0; i < n; i++) {
            String id = Records.id(run, i);
            last = spool.append(
                    Records.typeOf(i),
                    System.currentTimeMillis(),
                    id.getBytes(StandardCharsets.UTF_8),
                    Records.json(Records.typeOf(i), id),
                    null);
        }
        return last;
    }

    static Path tempDir(String name) throws IOException {
        return Files.createTempDirectory("bench-" + name + "-");
    }

    static void delete(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
