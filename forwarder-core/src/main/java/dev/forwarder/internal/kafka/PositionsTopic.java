package dev.forwarder.internal.kafka;

import dev.forwarder.ForwarderConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code delivery = exactly_once}: the topic that holds the spools' committed positions,
 * {@code {topic_prefix}_forwarder_positions}: one partition, compacted to the last position of each source id.
 *
 * <p>Compaction only cleans closed segments, and Kafka closes one at 1 GiB or after 7 days by default: with
 * those, every transaction's position stayed in the active segment, and each start read a week of them (a
 * forwarder committing 10 transactions a second wrote about 6 million). Small segments that close within an
 * hour let the cleaner keep the topic at about one record per source id, so what a start reads is bounded by
 * the spools, not by the transactions: at most a segment ({@value #SEGMENT_BYTES} bytes, some 8,000
 * positions) and what the cleaner has not yet reached, besides one record per source id.
 *
 * <p>The settings are given when the topic is created, and set on an existing topic where nobody set them on
 * it (one the broker created on first use, with its defaults, or one of an earlier version): an operator's
 * own setting is kept.
 */
public final class PositionsTopic {

    private static final Logger LOG = LoggerFactory.getLogger(PositionsTopic.class);

    static final int SEGMENT_BYTES = 1024 * 1024;
    static final long SEGMENT_MS = TimeUnit.HOURS.toMillis(1);

    /** What the topic needs, in the order they are told. */
    static final Map<String, String> CONFIGS = configs();

    private PositionsTopic() {}

    private static Map<String, String> configs() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        c.put(TopicConfig.SEGMENT_BYTES_CONFIG, String.valueOf(SEGMENT_BYTES));
        c.put(TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(SEGMENT_MS));
        c.put(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, String.valueOf(SEGMENT_MS));
        return Map.copyOf(c);
    }

    /** The topic to create: one partition (a position per spool, read whole at every start), compacted. */
    static NewTopic newTopic(ForwarderConfig.Kafka kafka) {
        return new NewTopic(kafka.positionsTopic(), Optional.of(1), ClusterCheck.replication(kafka)).configs(CONFIGS);
    }

    /**
     * Sets on the existing topic those of {@link #CONFIGS} that nobody set on it; warns about a topic an
     * operator set not to compact. Without the right to read or change topic configs, warns and goes on: the
     * positions stay exact, only the read at start grows.
     */
    static void align(Admin admin, ForwarderConfig.Kafka kafka, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        String topic = kafka.positionsTopic();
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config;
        try {
            config = admin.describeConfigs(List.of(resource))
                    .all()
                    .get(ClusterCheck.remaining(deadline), TimeUnit.MILLISECONDS)
                    .get(resource);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn(
                        "cannot read the configs of {} ({}): {}",
                        topic,
                        e.getCause().getMessage(),
                        advice(kafka));
                return;
            }
            throw e;
        }
        List<AlterConfigOp> ops = new ArrayList<>();
        for (Map.Entry<String, String> wanted : CONFIGS.entrySet()) {
            ConfigEntry entry = config == null ? null : config.get(wanted.getKey());
            if (entry != null && entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
                if (wanted.getKey().equals(TopicConfig.CLEANUP_POLICY_CONFIG)
                        && !String.valueOf(entry.value()).contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
                    LOG.warn(
                            "the positions topic {} has cleanup.policy = {}, set on the topic: it must be compacted,"
                                    + " or it loses the positions of spools idle for longer than its retention and"
                                    + " grows with every transaction until then; {}",
                            topic,
                            entry.value(),
                            advice(kafka));
                }
                continue; // an operator's choice
            }
            if (entry == null || !wanted.getValue().equals(entry.value())) {
                ops.add(new AlterConfigOp(
                        new ConfigEntry(wanted.getKey(), wanted.getValue()), AlterConfigOp.OpType.SET));
            }
        }
        if (ops.isEmpty()) {
            return;
        }
        try {
            admin.incrementalAlterConfigs(Map.of(resource, ops))
                    .all()
                    .get(ClusterCheck.remaining(deadline), TimeUnit.MILLISECONDS);
            LOG.info("set {} on the positions topic {}", describe(ops), topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                LOG.warn(
                        "the positions topic {} lacks {} and this user may not set them ({}): {}",
                        topic,
                        describe(ops),
                        e.getCause().getMessage(),
                        advice(kafka));
                return;
            }
            throw e;
        }
    }

    /**
     * The positions topic was found gone while forwarding (deleted at runtime): creates it again, as at start,
     * when {@code topics.create} allows it.
     *
     * @return whether this call created it (false: it exists, another forwarder of the fleet created it first)
     * @throws KafkaException naming the topic and what to do when it may not be created or creating it failed
     */
    static boolean recreate(ForwarderConfig.Kafka kafka, Duration timeout) {
        if (!kafka.topics().create()) {
            throw new KafkaException("the positions topic " + kafka.positionsTopic() + " does not exist: create it"
                    + " (one partition, cleanup.policy = compact), or set gateway.observability.kafka.topics.create ="
                    + " true; forwarding waits until it exists");
        }
        Map<String, Object> props = ProducerSettings.admin(kafka);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(props)) {
            boolean created = true;
            try {
                admin.createTopics(List.of(newTopic(kafka)))
                        .all()
                        .get(ClusterCheck.remaining(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                created = false;
            }
            ClusterCheck.awaitLeaders(admin, List.of(kafka.positionsTopic()), deadline);
            return created;
        } catch (ExecutionException e) {
            throw new KafkaException(
                    "cannot create the positions topic " + kafka.positionsTopic() + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("creating the positions topic " + kafka.positionsTopic() + " took longer than "
                    + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while creating the positions topic " + kafka.positionsTopic());
        }
    }

    private static String advice(ForwarderConfig.Kafka kafka) {
        StringBuilder settings = new StringBuilder();
        CONFIGS.forEach((k, v) -> settings.append(settings.length() == 0 ? "" : ",")
                .append(k)
                .append('=')
                .append(v));
        return "set them with kafka-configs.sh --bootstrap-server " + kafka.brokers() + " --alter --entity-type topics"
                + " --entity-name " + kafka.positionsTopic() + " --add-config " + settings;
    }

    private static String describe(Collection<AlterConfigOp> ops) {
        List<String> out = new ArrayList<>();
        ops.forEach(
                op -> out.add(op.configEntry().name() + " = " + op.configEntry().value()));
        return String.join(", ", out);
    }
}
