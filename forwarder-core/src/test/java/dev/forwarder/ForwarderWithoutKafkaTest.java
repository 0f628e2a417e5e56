package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The forwarder started with require_connection = false and no Kafka it can use: nothing about Kafka is needed. */
class ForwarderWithoutKafkaTest {

    private static ForwarderConfig config(Path dir, String brokers) {
        return ForwarderConfig.parse("gateway.observability.kafka { brokers = \"" + brokers + "\","
                + " startup { require_connection = false, timeout_ms = 500 }, spool.dir = \"" + dir
                + "\", spool.drain_timeout_ms = 200 }");
    }

    @Test
    void aBrokerNameThatDoesNotResolveKeepsTheForwarderTryingAndSaysWhy(@TempDir Path dir) throws Exception {
        try (Forwarder forwarder = Forwarder.start(config(dir, "kafka-that-does-not-resolve-yet.invalid:9092"))) {
            assertTrue(
                    forwarder.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}").accepted());
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> forwarder.status().lastError() != null);
            ForwarderStatus status = forwarder.status();
            assertNotNull(status.lastError(), "the cause is shown");
            assertTrue(
                    status.lastError().contains("kafka-that-does-not-resolve-yet.invalid")
                            || status.lastError().contains("resolvable"),
                    status.lastError());
            assertEquals(ForwarderStatus.State.CONNECTING, status.state(), "still trying, not dead");
            Thread.sleep(300);
            assertEquals(ForwarderStatus.State.CONNECTING, forwarder.status().state());
            assertEquals(1, forwarder.status().backlog(), "the record waits in the spool");
        }
    }

    /** publishAll appends a batch whole or not at all, also when the spool fills in the middle of one. */
    @Test
    void publishAllAppendsABatchWholeOrNotAtAll(@TempDir Path dir) throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka { brokers = \"127.0.0.1:1\","
                + " startup { require_connection = false, timeout_ms = 500 }, spool { dir = \"" + dir
                + "\", max_bytes = 16MiB, drain_timeout_ms = 200 } }");
        String pad = "x".repeat(10_000);
        try (Forwarder forwarder = Forwarder.start(config)) {
            List<byte[]> framingFault =
                    List.of("{\"id\":\"a\"}".getBytes(StandardCharsets.UTF_8), "[1]".getBytes(StandardCharsets.UTF_8));
            List<PublishResult> refused = forwarder.publishAll(DataType.MODEL_INFERENCE, framingFault);
            assertTrue(refused.stream().allMatch(r -> r.status() == PublishResult.Status.DROPPED_SERIALIZATION_ERROR));
            assertTrue(
                    refused.get(0).detail().contains("record 2 of 2"),
                    refused.get(0).detail());

            long acceptedTotal = 0;
            int refusedBatches = 0;
            for (int batch = 0; batch < 40 && refusedBatches < 3; batch++) {
                List<byte[]> jsons = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    jsons.add(("{\"id\":\"b" + batch + "-" + i + "\",\"pad\":\"" + pad + "\"}")
                            .getBytes(StandardCharsets.UTF_8));
                }
                List<PublishResult> results = forwarder.publishAll(DataType.MODEL_INFERENCE, jsons);
                long accepted = results.stream().filter(PublishResult::accepted).count();
                assertTrue(accepted == 0 || accepted == 100, "batch " + batch + ": " + accepted + " of 100 appended");
                if (accepted == 0) {
                    refusedBatches++;
                    assertTrue(results.stream().allMatch(r -> r.status() == PublishResult.Status.DROPPED_SPOOL_FULL));
                }
                acceptedTotal += accepted;
            }
            assertTrue(refusedBatches > 0, "a 16 MiB spool refused some of 40 MB");
            ForwarderStatus status = forwarder.status();
            assertEquals(acceptedTotal, status.appended());
            assertEquals(
                    status.offered(),
                    status.appended()
                            + status.dropped().values().stream()
                                    .mapToLong(Long::longValue)
                                    .sum());
        }
    }

    /** Two forwarders in one JVM count their own records' ids that are not UUIDv7, not each other's. */
    @Test
    void twoForwardersInOneJvmCountOnlyTheirOwnIdsThatAreNotV7(@TempDir Path dir) throws Exception {
        byte[] v4 = ("{\"id\":\"" + UUID.randomUUID() + "\",\"episode_id\":\"0190c000-0000-7000-8000-000000000004\","
                        + "\"function_name\":\"f\",\"variant_name\":\"v\"}")
                .getBytes(StandardCharsets.UTF_8);
        try (Forwarder a = Forwarder.start(config(dir.resolve("a"), "127.0.0.1:1"));
                Forwarder b = Forwarder.start(config(dir.resolve("b"), "127.0.0.1:1"))) {
            assertEquals(Optional.empty(), a.check(DataType.CHAT_INFERENCE, v4));
            assertEquals(Optional.empty(), a.check(DataType.CHAT_INFERENCE, v4));
            assertEquals(Optional.empty(), Forwarder.validate(DataType.CHAT_INFERENCE, v4));
            assertEquals(
                    2, a.metricRegistry().counter("forwarder_event_ids_not_v7").getCount(), "a checked two");
            assertEquals(
                    0, b.metricRegistry().counter("forwarder_event_ids_not_v7").getCount(), "b checked none");
        }
    }

    @Test
    void closeFromTwoThreadsAtOnceClosesOnceAndBothReturnAfterIt(@TempDir Path dir) throws Exception {
        Forwarder forwarder = Forwarder.start(config(dir, "127.0.0.1:1"));
        forwarder.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}");
        CountDownLatch go = new CountDownLatch(1);
        List<Throwable> errors = new ArrayList<>();
        List<ForwarderStatus.State> seen = new ArrayList<>();
        List<Thread> closers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    forwarder.close(); // a shutdown hook beside try-with-resources
                    synchronized (seen) {
                        seen.add(forwarder.status().state());
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            t.start();
            closers.add(t);
        }
        go.countDown();
        for (Thread t : closers) {
            t.join(30_000);
        }
        assertEquals(List.of(), errors);
        assertEquals(
                List.of(ForwarderStatus.State.CLOSED, ForwarderStatus.State.CLOSED),
                seen,
                "both returned after the close was done");
        assertEquals(1, forwarder.status().backlog(), "the record stays for the next start");
    }

    /** A publisher waiting for Kafka (async_writes = false) does not hold close(): close ends its wait. */
    @Test
    void closeDoesNotWaitForSynchronousPublishersItEndsTheirWait(@TempDir Path dir) throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability { async_writes = false, kafka {"
                + " brokers = \"127.0.0.1:1\", request_timeout_ms = 60000,"
                + " startup { require_connection = false, timeout_ms = 500 }, spool.dir = \"" + dir
                + "\", spool.drain_timeout_ms = 200 } }");
        Forwarder forwarder = Forwarder.start(config);
        PublishResult[] result = new PublishResult[1];
        Thread publisher = new Thread(() -> result[0] = forwarder.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}"));
        publisher.start();
        while (forwarder.status().appended() == 0) {
            Thread.sleep(10);
        }
        forwarder.close();
        publisher.join(60_000);
        assertEquals(PublishResult.Status.TIMED_OUT, result[0].status());
        assertTrue(
                result[0].detail().contains("closed"),
                "ended by the close, not by request_timeout_ms: " + result[0].detail());
        assertEquals(1, forwarder.status().backlog(), "the record stays in the spool");
    }
}
