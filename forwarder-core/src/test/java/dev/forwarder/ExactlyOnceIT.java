package dev.forwarder;

import static dev.forwarder.testkit.Flow.awaitDelivered;
import static dev.forwarder.testkit.Flow.copyTree;
import static dev.forwarder.testkit.Flow.publish;
import static dev.forwarder.testkit.Flow.sourceId;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.kafka.Positions;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code delivery = exactly_once} against a real broker: transactions, the committed position, fencing. */
@KafkaTest
class ExactlyOnceIT {

    static ForwarderConfig config(String brokers, Path spool, String prefix, String extra) {
        return TestConfig.forBroker(brokers, spool)
                .prefix(prefix)
                .with("gateway.observability.kafka.delivery = exactly_once")
                .with(extra)
                .build();
    }

    @Test
    void recordsArriveOnceInCommittedTransactionsWithTheSpoolPosition(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        String prefix = "eos" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = config(
                broker.bootstrapServers(),
                dir.resolve("spool"),
                prefix,
                "gateway.observability.kafka.batch_size = 100");
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        String metrics;
        long checkpoint;
        UUID source;
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < 1_000; i++) {
                String id = Records.id(run, i);
                ids.add(id);
                forwarder.publish(Records.typeOf(i), Records.json(Records.typeOf(i), id));
            }
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertEquals(
                            0, forwarder.status().backlog(), forwarder.status().toString()));
            assertEquals(1_000, forwarder.status().delivered());
            checkpoint = forwarder.status().checkpoint();
            source = sourceId(dir.resolve("spool"));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            forwarder.writePrometheus(out);
            metrics = out.toString(StandardCharsets.UTF_8);
        }
        Delivered delivered = Delivered.read(broker.readCommittedProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(0, delivered.duplicates());
        assertEquals(ids.size(), delivered.messages());
        PrometheusText parsed = PrometheusText.parse(metrics);
        assertTrue(
                parsed.value("forwarder_kafka_transactions_committed_total") >= 10,
                "1000 records in transactions of at most 100");
        assertEquals(0, (int) parsed.value("forwarder_kafka_transactions_aborted_total"));
        assertTrue(parsed.value("forwarder_kafka_transaction_duration_seconds_count") >= 10);
        // In seconds: bounds 5 ms to 60 s (they were 5 to 60,000 when the family was in ms).
        assertEquals(
                List.of(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
                parsed.bucketBounds("forwarder_kafka_transaction_duration_seconds"));
        double meanSeconds = parsed.value("forwarder_kafka_transaction_duration_seconds_sum")
                / parsed.value("forwarder_kafka_transaction_duration_seconds_count");
        assertTrue(meanSeconds > 0 && meanSeconds < 60, "a mean transaction in seconds: " + meanSeconds);
        // Kafka's committed position for this spool is the local checkpoint.
        assertEquals(checkpoint, Positions.read(config.kafka(), source, Duration.ofSeconds(30)));
    }

    /**
     * Forwarders of a fleet write their positions to one topic: another's open transaction must not hide this
     * spool's newer positions from its restart (which would resume too early and commit records twice).
     */
    @Test
    void aRestartResumesAtItsOwnPositionWhileAnotherForwarderHoldsATransactionOpen(
            KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "fleet" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = config(
                broker.bootstrapServers(), dir.resolve("spool"), prefix, "gateway.observability.kafka.batch_size = 10");
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "forwarder-" + UUID.randomUUID());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(props)) {
            try (Forwarder forwarder = Forwarder.start(config)) {
                publish(forwarder, run, ids, 0, 10);
                awaitDelivered(forwarder, 10);
                // Another forwarder of the fleet begins a transaction with its position, and holds it open...
                other.initTransactions();
                other.beginTransaction();
                other.send(Positions.record(config.kafka().positionsTopic(), UUID.randomUUID(), 7, 1, 0L))
                        .get();
                // ...while this one commits ten more records with its position after it.
                publish(forwarder, run, ids, 10, 20);
                awaitDelivered(forwarder, 20);
            }
            try (Forwarder restarted = Forwarder.start(config)) {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> String.valueOf(restarted.status().lastError())
                                .contains("a transaction another forwarder on this prefix holds open"));
                assertTrue(restarted.status().state() != ForwarderStatus.State.FORWARDING, "it waits, and says why");
                other.abortTransaction();
                awaitState(restarted, ForwarderStatus.State.FORWARDING);
                publish(restarted, run, ids, 20, 30);
                awaitDelivered(restarted, 10);
            }
        }
        Delivered delivered = Delivered.read(broker.readCommittedProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(0, delivered.duplicates(), "no record committed twice");
        assertEquals(30, delivered.messages());
    }

    /**
     * A copy is normally told from its original and takes a source id of its own (CopiedSpoolIT). One that
     * cannot be told (its home file gone: copied from a spool of a version before copies were detected) shares
     * the original's transactional id: Kafka fences the older producer, which stops for good and says so.
     */
    @Test
    void aCopyThatCannotBeToldFromItsOriginalFencesIt(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "fence" + UUID.randomUUID().toString().substring(0, 8);
        Path original = dir.resolve("spool");
        Path copy = dir.resolve("copy");
        UUID run = UUID.randomUUID();
        try (Forwarder first = Forwarder.start(config(broker.bootstrapServers(), original, prefix, ""))) {
            first.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 0)));
            awaitDelivered(first, 1);
        }
        // The spool moved to another host (the copy) while the old process still runs (a pause, a partition).
        copyTree(original, copy);
        Files.delete(copy.resolve("home"));
        try (Forwarder older = Forwarder.start(config(broker.bootstrapServers(), original, prefix, ""))) {
            awaitState(older, ForwarderStatus.State.FORWARDING);
            try (Forwarder newer = Forwarder.start(config(broker.bootstrapServers(), copy, prefix, ""))) {
                newer.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 2)));
                awaitDelivered(newer, 1);
                older.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 3)));
                awaitState(older, ForwarderStatus.State.FENCED);
                ForwarderStatus fenced = older.status();
                assertTrue(
                        fenced.lastError()
                                .contains("fenced by Kafka: another forwarder started with"
                                        + " transactional.id forwarder-"),
                        fenced.lastError());
                assertEquals(1, fenced.backlog(), "the fenced forwarder's record stays in its spool");
                assertEquals(ForwarderStatus.State.FORWARDING, newer.status().state());
            }
        }
    }

    private static void awaitState(Forwarder forwarder, ForwarderStatus.State state) {
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertEquals(
                        state, forwarder.status().state(), forwarder.status().toString()));
    }
}
