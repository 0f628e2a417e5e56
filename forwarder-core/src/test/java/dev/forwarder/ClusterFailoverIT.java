package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaCluster;
import dev.forwarder.testkit.PrometheusText;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real 3-node cluster (replication factor 3, min.insync.replicas 2) under a steady stream of publishes: the
 * leader of the first partition is SIGKILLed twice (each time the partition gets a new leader, the dead node
 * comes back), then the node that coordinates the forwarder's transactions (exactly_once), or another
 * partition's leader (at_least_once). Every accepted record arrives: with exactly_once once, read_committed;
 * with at_least_once, duplicates at most one per failed send (the README's bound).
 */
class ClusterFailoverIT {

    private static KafkaCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = KafkaCluster.start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void everyRecordArrivesWhileLeadersAndTheCoordinatorDie(String delivery, @TempDir Path dir) throws Exception {
        String prefix = "failover" + UUID.randomUUID().toString().substring(0, 8);
        Path spool = dir.resolve("spool");
        ForwarderConfig config = TestConfig.forBroker(cluster.bootstrapServers(), spool)
                .prefix(prefix)
                .with("gateway.observability.kafka { delivery = " + delivery
                        + ", batch_size = 500, topics.replication_factor = 3 }")
                .build();
        String topic = DataType.CHAT_INFERENCE.topic(prefix);
        UUID run = UUID.randomUUID();
        List<String> ids = new CopyOnWriteArrayList<>();
        AtomicBoolean publishing = new AtomicBoolean(true);
        String metrics;
        try (Forwarder forwarder = Forwarder.start(config)) {
            Thread publisher = new Thread(() -> {
                for (long n = 0; publishing.get(); n++) {
                    String id = Records.id(run, n);
                    if (forwarder
                            .publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, id))
                            .accepted()) {
                        ids.add(id);
                    }
                    if (n % 10 == 9) {
                        sleep(10); // about 1,000 records a second
                    }
                }
            });
            publisher.start();
            awaitDelivered(forwarder, 1_000);

            for (int kill = 1; kill <= 2; kill++) {
                int leader = cluster.leaderOf(topic, 0);
                killAndRevive(forwarder, leader, topic, "leader of " + topic + "-0");
            }
            if (delivery.equals("exactly_once")) {
                String transactionalId = ProducerSettings.transactionalId(UUID.fromString(
                        Files.readString(spool.resolve("source-id")).trim()));
                // A SIGKILL alone aborted no transaction in 1 of 9 CI runs, even four times over: the producer
                // found the new coordinator and went on. So the coordinator is frozen first (SIGSTOP): the
                // transaction's commit waits for it past the producer's time-out, the forwarder aborts and sends
                // the records again; then it is killed. Again (at most four times) until a transaction was aborted,
                // so the test shows the aborts it claims.
                for (int kill = 1; kill <= 4 && aborted(forwarder) == 0; kill++) {
                    int coordinator = cluster.transactionCoordinatorOf(transactionalId);
                    cluster.node(coordinator).freeze();
                    long frozenUntil = System.currentTimeMillis() + 20_000;
                    while (aborted(forwarder) == 0 && System.currentTimeMillis() < frozenUntil) {
                        sleep(100);
                    }
                    System.out.printf(
                            "froze node %d, the transaction coordinator, for a while: %.0f transactions aborted%n",
                            coordinator, aborted(forwarder));
                    killAndRevive(forwarder, coordinator, null, "transaction coordinator of " + transactionalId);
                }
            } else {
                int leader = cluster.leaderOf(topic, 1);
                killAndRevive(forwarder, leader, topic, "leader of " + topic + "-1");
            }

            publishing.set(false); // the load stops before anything is counted
            publisher.join();
            await().atMost(Duration.ofSeconds(120))
                    .untilAsserted(() -> assertEquals(
                            0,
                            forwarder.status().backlog() + forwarder.status().inFlight(),
                            forwarder.status().toString()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            forwarder.writePrometheus(out);
            metrics = out.toString(StandardCharsets.UTF_8);
        }
        PrometheusText parsed = PrometheusText.parse(metrics);
        boolean exactlyOnce = delivery.equals("exactly_once");
        Delivered delivered = Delivered.read(
                exactlyOnce ? cluster.readCommittedProperties() : cluster.clientProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)), "every accepted record arrived");
        if (exactlyOnce) {
            assertEquals(0, delivered.duplicates(), "read_committed: each record once");
            assertTrue(
                    parsed.value("forwarder_kafka_transactions_aborted_total") > 0,
                    "the kills aborted transactions (their records were sent again)");
            Delivered uncommitted = Delivered.read(cluster.clientProperties(), prefix, ids.size());
            System.out.printf(
                    "exactly_once: %d records, read_committed %d, read_uncommitted %d (aborted transactions), %.0f"
                            + " transactions aborted%n",
                    ids.size(),
                    delivered.messages(),
                    uncommitted.messages(),
                    parsed.value("forwarder_kafka_transactions_aborted_total"));
        } else {
            double failedSends = parsed.samples().stream()
                    .filter(s -> s.name().equals("kafka_writes_failed_total"))
                    .mapToDouble(PrometheusText.Sample::value)
                    .sum();
            System.out.printf(
                    "at_least_once: %d records, %d messages, %d duplicates, %.0f failed sends%n",
                    ids.size(), delivered.messages(), delivered.duplicates(), failedSends);
            assertTrue(
                    delivered.duplicates() <= failedSends,
                    delivered.duplicates() + " duplicates, more than the " + failedSends + " failed sends");
        }
    }

    /**
     * SIGKILLs node {@code id} while records flow, shows that its partition moved (when {@code topic} is given),
     * waits until forwarding goes on without it, then starts it again.
     */
    /** Transactions the forwarder aborted so far ({@code forwarder_kafka_transactions_aborted_total}). */
    private static double aborted(Forwarder forwarder) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            forwarder.writePrometheus(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8))
                .value("forwarder_kafka_transactions_aborted_total");
    }

    private static void killAndRevive(Forwarder forwarder, int id, String topic, String what) {
        long before = forwarder.status().delivered();
        long pid = cluster.node(id).pid();
        cluster.node(id).kill();
        if (topic != null) {
            int partition = what.endsWith("-1") ? 1 : 0;
            int newLeader = cluster.awaitNewLeader(topic, partition, id);
            assertNotEquals(id, newLeader);
            System.out.printf("killed node %d (pid %d), the %s; node %d leads it now%n", id, pid, what, newLeader);
        } else {
            System.out.printf("killed node %d (pid %d), the %s%n", id, pid, what);
        }
        awaitDelivered(forwarder, before + 1_000); // forwarding goes on with a node down
        cluster.node(id).start();
    }

    private static void awaitDelivered(Forwarder forwarder, long count) {
        await().atMost(Duration.ofSeconds(120))
                .untilAsserted(() -> assertTrue(
                        forwarder.status().delivered() >= count,
                        forwarder.status().toString()));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
