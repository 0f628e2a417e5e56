package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** async_writes = false: publish returns once Kafka has the record, or with TIMED_OUT in bounded time. */
@KafkaTest
class SyncWritesIT {

    private static final int REQUEST_TIMEOUT_MS = 2000;

    @Test
    void publishReturnsOnlyOnceTheRecordIsReadable(KafkaBroker broker, @TempDir Path dir) throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .with("gateway.observability.async_writes = false\n"
                        + "gateway.observability.kafka.request_timeout_ms = " + REQUEST_TIMEOUT_MS)
                .build();
        String topic = config.kafka().topic(DataType.CHAT_INFERENCE);
        UUID run = UUID.randomUUID();
        try (Forwarder forwarder = Forwarder.start(config);
                Admin admin = broker.admin()) {
            for (int i = 0; i < 20; i++) {
                PublishResult r = forwarder.publish(
                        DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, i)));
                assertEquals(PublishResult.Status.ACKNOWLEDGED, r.status(), r.detail());
                // Readable now: the high watermark (what consumers can read) already covers it.
                assertEquals(i + 1, visibleMessages(admin, topic), "record " + i + " not yet readable");
            }

            broker.kill();
            long t0 = System.nanoTime();
            PublishResult r = forwarder.publish(
                    DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 20)));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(PublishResult.Status.TIMED_OUT, r.status());
            assertTrue(r.accepted(), "a timed-out record is still in the spool");
            System.out.println("sync publish with the broker down returned " + r.status() + " after " + tookMs + " ms");
            // Bounded: the request time-out, plus generous slack for a loaded machine (not a speed test).
            assertTrue(tookMs < REQUEST_TIMEOUT_MS + 10_000, "sync publish took " + tookMs + " ms");

            broker.start();
            forwarder.close();
        }
        Delivered delivered =
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), 21);
        assertEquals(1, delivered.count(Records.id(run, 20)), "the timed-out record was delivered after all");
        assertEquals(21, delivered.distinct());
    }

    private static long visibleMessages(Admin admin, String topic) throws Exception {
        TopicDescription description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .get(topic);
        Map<TopicPartition, OffsetSpec> latest = description.partitions().stream()
                .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
        ListOffsetsResult offsets = admin.listOffsets(latest);
        long total = 0;
        for (TopicPartition partition : latest.keySet()) {
            total +=
                    offsets.partitionResult(partition).get(10, TimeUnit.SECONDS).offset();
        }
        return total;
    }
}
