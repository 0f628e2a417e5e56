package dev.forwarder.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * A real 3-node Kafka cluster (KRaft: each node a broker and a controller, a quorum of three), as child JVMs
 * like {@link KafkaBroker}: topics replicated three times with {@code min.insync.replicas = 2}, the
 * transaction and offsets logs alike, so that one node may die and every write with {@code acks=all} still
 * succeeds once the partitions have new leaders.
 *
 * <pre>
 *   try (KafkaCluster cluster = KafkaCluster.start()) {
 *       int leader = cluster.leaderOf("topic", 0);
 *       cluster.node(leader).kill();   // SIGKILL
 *       cluster.awaitNewLeader("topic", 0, leader);
 *       cluster.node(leader).start();  // back, same data
 *   }
 * </pre>
 */
public final class KafkaCluster implements KafkaEndpoint, AutoCloseable {

    public static final int SIZE = 3;

    private final List<KafkaBroker> nodes = new ArrayList<>();

    private KafkaCluster() {}

    /** Starts the three nodes and waits until each serves requests. */
    public static KafkaCluster start() {
        KafkaCluster cluster = new KafkaCluster();
        int[] controllerPorts = new int[SIZE];
        for (int i = 0; i < SIZE; i++) {
            controllerPorts[i] = Ports.unused();
        }
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < SIZE; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(controllerPorts[i]);
        }
        try {
            for (int i = 0; i < SIZE; i++) {
                cluster.nodes.add(KafkaBroker.builder()
                        .node(i + 1, controllerPorts[i], voters.toString())
                        .brokerProperty("default.replication.factor", "3")
                        .brokerProperty("min.insync.replicas", "2")
                        .brokerProperty("offsets.topic.replication.factor", "3")
                        .brokerProperty("transaction.state.log.replication.factor", "3")
                        .brokerProperty("transaction.state.log.min.isr", "2")
                        .brokerProperty("transaction.state.log.num.partitions", "3")
                        .brokerProperty("share.coordinator.state.topic.replication.factor", "3")
                        .brokerProperty("share.coordinator.state.topic.min.isr", "2")
                        // A leader that dies is replaced at once (its session ends), not after a long wait.
                        .brokerProperty("replica.lag.time.max.ms", "5000")
                        .build());
            }
            cluster.nodes.forEach(KafkaBroker::launch);
            cluster.nodes.forEach(KafkaBroker::awaitReady);
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Node {@code id} (1 to 3). */
    public KafkaBroker node(int id) {
        return nodes.get(id - 1);
    }

    /** Every node's PLAINTEXT listener, comma-separated. */
    public String bootstrapServers() {
        return nodes.stream().map(KafkaBroker::bootstrapServers).collect(Collectors.joining(","));
    }

    public Admin admin() {
        Map<String, Object> props = clientProperties();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(props);
    }

    /** The node that leads {@code topic}'s partition now, or -1 if none does. */
    public int leaderOf(String topic, int partition) {
        try (Admin admin = admin()) {
            TopicDescription d = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(topic);
            TopicPartitionInfo p = d.partitions().get(partition);
            Node leader = p.leader();
            return leader == null || leader.isEmpty() ? -1 : leader.id();
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe " + topic + ": " + e, e);
        }
    }

    /** Waits (at most 60 s) until a node other than {@code old} leads the partition; returns it. */
    public int awaitNewLeader(String topic, int partition, int old) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int leader = leaderOf(topic, partition);
                if (leader > 0 && leader != old) {
                    return leader;
                }
            } catch (IllegalStateException notNow) {
                // the cluster is electing; ask again
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalStateException(topic + "-" + partition + " has no leader but node " + old + " after 60 s");
    }

    /** The node that coordinates transactional id {@code id} (its transaction state's leader). */
    public int transactionCoordinatorOf(String id) {
        try (Admin admin = admin()) {
            return admin.describeTransactions(List.of(id))
                    .description(id)
                    .get(10, TimeUnit.SECONDS)
                    .coordinatorId();
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe transactional id " + id + ": " + e, e);
        }
    }

    @Override
    public void close() {
        nodes.forEach(KafkaBroker::close);
    }
}
