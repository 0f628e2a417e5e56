package dev.forwarder.internal.kafka;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up check: the cluster is reachable and accepts our credentials, and the three topics exist or
 * are created. Failures become one message that names the brokers, what failed and what to check.
 */
public final class ClusterCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterCheck.class);

    private ClusterCheck() {}

    /**
     * Checks the cluster and tells {@code sizes} how large a message each topic takes.
     *
     * @throws ClusterCheckException with a message fit for the operator
     */
    public static void run(ForwarderConfig.Kafka kafka, long timeoutMs, MessageSizes sizes)
            throws ClusterCheckException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Map<String, Object> props = ProducerSettings.admin(kafka);
        // Operations must give up by our deadline, or Admin.close() waits for them (60 s by default).
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.max(1, timeoutMs));
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int)
                Math.max(1, Math.min(timeoutMs, kafka.requestTimeoutMs())));
        Admin admin = Admin.create(props);
        try {
            Collection<Node> nodes = admin.describeCluster().nodes().get(remaining(deadline), TimeUnit.MILLISECONDS);
            if (nodes.isEmpty()) {
                throw new ClusterCheckException("Kafka at " + kafka.brokers() + " reports no brokers");
            }
            Set<String> existing = admin.listTopics().names().get(remaining(deadline), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (DataType type : DataType.values()) {
                String topic = kafka.topic(type);
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, Optional.of(kafka.topics().partitions()), replication(kafka)));
                }
            }
            boolean exactlyOnce = kafka.delivery() == ForwarderConfig.Delivery.EXACTLY_ONCE;
            if (exactlyOnce && !existing.contains(kafka.positionsTopic())) {
                missing.add(PositionsTopic.newTopic(kafka));
            }
            if (!missing.isEmpty()) {
                create(admin, kafka, missing, deadline);
            }
            if (exactlyOnce && existing.contains(kafka.positionsTopic())) {
                PositionsTopic.align(admin, kafka, deadline);
            }
            learnSizes(admin, kafka, sizes, deadline);
        } catch (ExecutionException e) {
            throw explain(kafka, timeoutMs, e.getCause());
        } catch (TimeoutException e) {
            throw explain(kafka, timeoutMs, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterCheckException("interrupted while checking Kafka at " + kafka.brokers());
        } catch (KafkaException e) {
            throw explain(kafka, timeoutMs, e);
        } finally {
            admin.close(Duration.ZERO);
        }
    }

    private static void create(Admin admin, ForwarderConfig.Kafka kafka, List<NewTopic> missing, long deadline)
            throws ClusterCheckException, ExecutionException, InterruptedException, TimeoutException {
        if (!kafka.topics().create()) {
            throw new ClusterCheckException("topics missing on Kafka at " + kafka.brokers() + ": "
                    + missing.stream().map(NewTopic::name).toList() + "; create them, or set "
                    + "gateway.observability.kafka.topics.create = true");
        }
        try {
            admin.createTopics(missing).all().get(remaining(deadline), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), deadline);
    }

    /**
     * Reads each topic's {@code max.message.bytes} (the broker's {@code message.max.bytes} unless the topic
     * overrides it). Without the right to describe configs, Kafka's defaults stay: logged, not fatal.
     */
    private static void learnSizes(Admin admin, ForwarderConfig.Kafka kafka, MessageSizes sizes, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<ConfigResource, DataType> resources = new LinkedHashMap<>();
        for (DataType type : DataType.values()) {
            resources.put(new ConfigResource(ConfigResource.Type.TOPIC, kafka.topic(type)), type);
        }
        Map<ConfigResource, Config> configs;
        try {
            configs = admin.describeConfigs(resources.keySet()).all().get(remaining(deadline), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn(
                        "cannot read the topics' max.message.bytes ({}): records are held to Kafka's default 1 MiB",
                        e.getCause().getMessage());
                return;
            }
            throw e;
        }
        for (Map.Entry<ConfigResource, DataType> resource : resources.entrySet()) {
            Config config = configs.get(resource.getKey());
            ConfigEntry entry = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            if (entry != null && entry.value() != null) {
                try {
                    sizes.learned(
                            resource.getValue(), Integer.parseInt(entry.value().trim()));
                } catch (NumberFormatException e) {
                    LOG.warn(
                            "topic {} has max.message.bytes {}, not a number",
                            resource.getKey().name(),
                            entry.value());
                }
            }
        }
    }

    /**
     * Waits until every partition of newly created topics has a leader. Sending to a partition the broker
     * is not yet leading gets NOT_LEADER_OR_FOLLOWER, and an idempotent producer can then be stuck on
     * OUT_OF_ORDER_SEQUENCE_NUMBER for that partition until its delivery time-out (seen with Kafka 4.4).
     */
    static void awaitLeaders(Admin admin, List<String> topics, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        while (true) {
            Map<String, TopicDescription> descriptions;
            try {
                descriptions =
                        admin.describeTopics(topics).allTopicNames().get(remaining(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                descriptions = Map.of();
            }
            boolean ready = descriptions.size() == topics.size()
                    && descriptions.values().stream()
                            .flatMap(d -> d.partitions().stream())
                            .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
            if (ready) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new TimeoutException("partitions of " + topics + " have no leader yet");
            }
            Thread.sleep(50);
        }
    }

    private static ClusterCheckException explain(ForwarderConfig.Kafka kafka, long timeoutMs, Throwable cause) {
        String user = kafka.sasl()
                .map(s -> " as user \"" + s.username() + "\" (" + s.mechanism() + ")")
                .orElse("");
        if (cause instanceof SslAuthenticationException) {
            return new ClusterCheckException("TLS handshake with Kafka at " + kafka.brokers() + " failed: "
                    + rootMessage(cause) + "; check gateway.observability.kafka.tls (ca_file or truststore_file must"
                    + " hold the CA that signed the brokers' certificates; verify_hostname) and security_protocol ("
                    + kafka.securityProtocol() + ")");
        }
        if (cause instanceof AuthenticationException) {
            return new ClusterCheckException("authentication to Kafka at " + kafka.brokers() + user + " failed: "
                    + cause.getMessage() + "; check gateway.observability.kafka.sasl (mechanism, username,"
                    + " password) and security_protocol (" + kafka.securityProtocol() + ")");
        }
        if (cause instanceof AuthorizationException) {
            return new ClusterCheckException("Kafka at " + kafka.brokers() + " refused an operation" + user + ": "
                    + cause.getMessage() + "; the user needs Describe on the cluster and Create/Write on the"
                    + " topics " + kafka.topicPrefix() + "_*");
        }
        boolean timedOut =
                cause instanceof TimeoutException || cause instanceof org.apache.kafka.common.errors.TimeoutException;
        if (timedOut && kafka.securityProtocol().endsWith("SSL")) {
            Optional<String> plaintext = PlaintextProbe.firstAnsweringWithoutTls(kafka.brokers(), 2_000);
            if (plaintext.isPresent()) {
                boolean sasl = kafka.securityProtocol().startsWith("SASL");
                return new ClusterCheckException("Kafka at " + plaintext.get() + " answers without TLS, but"
                        + " security_protocol is " + kafka.securityProtocol()
                        + (sasl && kafka.tls().isEmpty()
                                ? " (the default when sasl is set, so that credentials and records are encrypted)"
                                : "")
                        + ": TLS was expected; point gateway.observability.kafka.brokers at the brokers' TLS"
                        + " listener, or, only on a network you trust, set"
                        + " gateway.observability.kafka.security_protocol = \""
                        + (sasl ? "SASL_PLAINTEXT" : "PLAINTEXT")
                        + "\"" + (kafka.tls().isPresent() ? " and remove gateway.observability.kafka.tls" : ""));
            }
        }
        if (timedOut) {
            return new ClusterCheckException("no Kafka broker reachable at " + kafka.brokers() + " within "
                    + timeoutMs + " ms (security_protocol " + kafka.securityProtocol() + "); check that the"
                    + " brokers are up and reachable from here, gateway.observability.kafka.brokers, and the"
                    + " security settings"
                    + (kafka.startup().requireConnection()
                            ? "; or set gateway.observability.kafka.startup.require_connection = false to start"
                                    + " spooling and connect later"
                            : ""));
        }
        return new ClusterCheckException("checking Kafka at " + kafka.brokers() + " failed: " + cause);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root.getMessage() + ")";
    }

    /** {@code topics.replication_factor}, or the broker's default when it is -1. */
    static Optional<Short> replication(ForwarderConfig.Kafka kafka) {
        return kafka.topics().replicationFactor() < 0
                ? Optional.empty()
                : Optional.of((short) kafka.topics().replicationFactor());
    }

    /** Milliseconds left before {@code deadline} (a System.nanoTime instant), at least 1. */
    static long remaining(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    /** The check failed; the message is for the operator and never contains a password. */
    public static final class ClusterCheckException extends Exception {
        private static final long serialVersionUID = 1L;

        public ClusterCheckException(String message) {
            super(message);
        }
    }
}
