package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100k records are spooled while Kafka is down, the forwarder is closed and started again, and forwarding
 * resumes from the checkpoint: everything spooled while Kafka was away arrives, and nothing that was
 * already delivered before is sent again.
 */
@KafkaTest
class BacklogRestartIT {

    private static final int BEFORE = 1_000;
    private static final int BACKLOG = 100_000;

    @Test
    void resumesFromTheCheckpointNotTheStartOfTheSpool(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spool = dir.resolve("spool");
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka.startup.require_connection = false\n"
                        + "gateway.observability.kafka.spool.drain_timeout_ms = 60000")
                .build();
        String prefix = config.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        List<String> before = new ArrayList<>();
        List<String> during = new ArrayList<>();

        // 1. Kafka up: 1,000 records delivered, checkpoint persisted at close.
        long checkpointAfterFirst;
        try (Forwarder forwarder = Forwarder.start(config)) {
            for (int i = 0; i < BEFORE; i++) {
                before.add(publish(forwarder, run, i));
            }
            forwarder.close();
            assertEquals(0, forwarder.status().backlog());
            checkpointAfterFirst = forwarder.status().checkpoint();
        }

        // 2. Kafka down: 100,000 records spooled; the forwarder cannot deliver and is closed with them.
        broker.stop();
        ForwarderConfig quickClose = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka { topic_prefix = \"" + prefix
                        + "\", startup.require_connection = false," + " spool.drain_timeout_ms = 500 }")
                .build();
        try (Forwarder forwarder = Forwarder.start(quickClose)) {
            for (int i = BEFORE; i < BEFORE + BACKLOG; i++) {
                during.add(publish(forwarder, run, i));
            }
            ForwarderStatus spooled = forwarder.status();
            assertEquals(BACKLOG, spooled.backlog(), "everything published while Kafka is down waits in the spool");
            assertEquals(checkpointAfterFirst, spooled.checkpoint());
            forwarder.close();
            assertEquals(0, forwarder.status().delivered());
            assertEquals(BACKLOG, forwarder.status().backlog());
        }

        // 3. Kafka back, the forwarder started again on the same spool: it resumes at the checkpoint.
        broker.start();
        ForwarderStatus last;
        try (Forwarder forwarder = Forwarder.start(config)) {
            assertEquals(checkpointAfterFirst, forwarder.status().checkpoint(), "checkpoint survived the restarts");
            forwarder.close();
            last = forwarder.status();
        }
        assertEquals(BACKLOG, last.delivered(), "exactly the backlog was forwarded, not the whole spool");
        assertEquals(0, last.backlog());

        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, BEFORE + BACKLOG);
        assertEquals(List.of(), List.copyOf(delivered.missing(during)), "backlog records lost");
        assertEquals(List.of(), List.copyOf(delivered.missing(before)));
        for (String id : before) {
            assertEquals(1, delivered.count(id), "record " + id + " from before the checkpoint was sent again");
        }
        assertEquals(BEFORE + BACKLOG, delivered.messages(), "no duplicates at all: every stop was clean");
        assertTrue(last.checkpoint() > checkpointAfterFirst);
    }

    private static String publish(Forwarder forwarder, UUID run, int seq) {
        String id = Records.id(run, seq);
        PublishResult r = forwarder.publish(Records.typeOf(seq), Records.json(Records.typeOf(seq), id));
        assertEquals(PublishResult.Status.ACCEPTED, r.status(), r.detail());
        return id;
    }
}
