package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * The broker is SIGKILLed while records are being published, and started again a few seconds later.
 * Publishing goes on throughout (its worst latency is printed, not asserted: timing belongs to JMH), and
 * every record arrives.
 */
@KafkaTest
class BrokerOutageIT {

    @Test
    void everythingArrivesAfterTheBrokerComesBack(KafkaBroker broker, @TempDir Path dir) throws Exception {
        ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
                .with("gateway.observability.kafka.spool.drain_timeout_ms = 120000")
                .build();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        long worstNanos = 0;
        long worstDuringOutageNanos = 0;
        ForwarderStatus status;
        try (Forwarder forwarder = Forwarder.start(config)) {
            long start = System.nanoTime();
            boolean killed = false;
            boolean restarted = false;
            int seq = 0;
            // ~6 s of traffic at ~5,000 records/s; the broker is down from 1 s to about 4 s (its restart).
            while (System.nanoTime() - start < 6_000_000_000L) {
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (!killed && elapsedMs >= 1000) {
                    broker.kill();
                    killed = true;
                } else if (killed && !restarted && elapsedMs >= 2500) {
                    // start() waits until the broker serves; publishing goes on meanwhile from another thread
                    Thread restart = new Thread(broker::start, "broker-restart");
                    restart.start();
                    restarted = true;
                }
                for (int i = 0; i < 50; i++, seq++) {
                    String id = Records.id(run, seq);
                    byte[] json = Records.json(Records.typeOf(seq), id);
                    long t0 = System.nanoTime();
                    PublishResult r = forwarder.publish(Records.typeOf(seq), json);
                    long took = System.nanoTime() - t0;
                    worstNanos = Math.max(worstNanos, took);
                    if (killed && !broker.isRunning()) {
                        worstDuringOutageNanos = Math.max(worstDuringOutageNanos, took);
                    }
                    assertEquals(PublishResult.Status.ACCEPTED, r.status(), r.detail());
                    ids.add(id);
                }
                Thread.sleep(10);
            }
            while (!broker.isRunning()) {
                Thread.sleep(100);
            }
            forwarder.close();
            status = forwarder.status();
        }
        System.out.printf(
                "published %d records; worst publish latency %.1f us overall, %.1f us while the broker" + " was down%n",
                ids.size(), worstNanos / 1e3, worstDuringOutageNanos / 1e3);

        Delivered delivered =
                Delivered.read(broker.clientProperties(), config.kafka().topicPrefix(), ids.size());
        System.out.println(
                "delivered " + delivered.messages() + " messages, " + delivered.duplicates() + " duplicates");
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)), "records lost in the outage");
        assertEquals(ids.size(), delivered.distinct());
        assertEquals(ids.size(), status.appended());
        assertEquals(0, status.backlog(), "drained");
        assertEquals(
                status.appended(), status.delivered() + status.deadLettered() + status.corrupt() + status.backlog());
    }
}
