package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.testkit.JavaProcess;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two appender processes and one forwarder share a spool: everything arrives, per-key order is the spool's
 * order, each writer's order is kept, and a second forwarder on the spool is refused.
 */
@KafkaTest
class SeveralWritersIT {

    private static final int PER_WRITER = 5000;

    @Test
    void twoAppenderProcessesOneForwarderEverythingInOrder(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spool = dir.resolve("spool");
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with("gateway.observability.kafka.spool.drain_timeout_ms = 60000")
                .build();
        String topic = config.kafka().topic(DataType.CHAT_INFERENCE);
        try (Forwarder forwarder = Forwarder.start(config)) {
            ForwarderException second = assertThrows(ForwarderException.class, () -> Forwarder.start(config));
            assertTrue(second.getMessage().contains("already being forwarded by process"), second.getMessage());

            Process a = JavaProcess.start(
                    AppenderChild.class, dir.resolve("a.log"), spool.toString(), "a", "" + PER_WRITER);
            Process b = JavaProcess.start(
                    AppenderChild.class, dir.resolve("b.log"), spool.toString(), "b", "" + PER_WRITER);
            assertTrue(a.waitFor(120, TimeUnit.SECONDS) && b.waitFor(120, TimeUnit.SECONDS), "appenders finished");
            assertEquals(0, a.exitValue(), Files.readString(dir.resolve("a.log")));
            assertEquals(0, b.exitValue(), Files.readString(dir.resolve("b.log")));
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> forwarder.status().backlog() == 0);
            forwarder.close();
            assertEquals(
                    2 * PER_WRITER,
                    forwarder.status().delivered(),
                    forwarder.status().toString());
        }

        ObjectMapper json = new ObjectMapper();
        List<ConsumerRecord<byte[], byte[]>> records =
                TopicReader.readAll(broker.clientProperties(), topic, 2 * PER_WRITER);
        Set<String> seen = new HashSet<>();
        Map<String, Long> lastIndexByKey = new HashMap<>();
        Map<String, Integer> lastSeqByWriterKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode value = json.readTree(r.value());
            String key = new String(r.key(), StandardCharsets.UTF_8);
            String writer = value.get("writer").asText();
            int seq = value.get("seq").asInt();
            assertTrue(seen.add(writer + ":" + seq), "duplicate " + writer + ":" + seq);
            assertEquals("key-" + (seq % 10), key);
            long index = Long.parseLong(new String(
                    r.headers().lastHeader(KafkaMessages.HEADER_SPOOL_INDEX).value(), StandardCharsets.UTF_8));
            Long previous = lastIndexByKey.put(key, index);
            assertTrue(
                    previous == null || previous < index,
                    "key " + key + " out of spool order: " + previous + " then " + index);
            Integer previousSeq = lastSeqByWriterKey.put(writer + key, seq);
            assertTrue(previousSeq == null || previousSeq < seq, "writer " + writer + " out of order on " + key);
        }
        assertEquals(2 * PER_WRITER, seen.size(), "every record of both writers arrived");
    }
}
