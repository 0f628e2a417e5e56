package dev.forwarder.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.CrashLoop;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.JavaProcess;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delivery = exactly_once}: the forwarder runs in a child JVM and is SIGKILLed {@value #KILLS} times
 * mid-stream while another process keeps appending to its spool, and the broker is SIGKILLed and restarted
 * under a running forwarder once. A {@code read_committed} consumer then reads every accepted record exactly
 * once; a {@code read_uncommitted} one reads more, showing that transactions were cut off and aborted (so
 * that the test would fail if the records were not written in transactions).
 */
@KafkaTest
class ExactlyOnceCrashIT {

    private static final int KILLS = 5;
    /** Long transactions (linger_ms), each record sent to the broker at once: a kill finds one open. */
    private static final String EXACTLY_ONCE = "gateway.observability.kafka { delivery = \"exactly_once\","
            + " linger_ms = 300, producer { \"linger.ms\" = 5 } }";

    @Test
    void everyAcceptedRecordIsReadOnceByReadCommittedConsumersAfterKills(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path spoolDir = dir.resolve("spool");
        String prefix = "eoscrash" + UUID.randomUUID().toString().substring(0, 8);
        Path log = dir.resolve("forwarder.log");
        List<String> ids;

        try (Spool spool = new Spool(spoolDir)) {
            BackgroundAppender appender = new BackgroundAppender(spool, 50);
            ids = appender.ids;

            CrashLoop crashes = new CrashLoop(spool, log);
            for (int kill = 0; kill < KILLS; kill++) {
                Process child = JavaProcess.start(
                        ForwarderChild.class,
                        log,
                        broker.bootstrapServers(),
                        spoolDir.toString(),
                        prefix,
                        "run",
                        EXACTLY_ONCE);
                crashes.awaitProgress(child, Duration.ofSeconds(90)); // it committed a transaction
                if (kill == 2) {
                    // The broker dies under a forwarder in the middle of its transactions, and comes back.
                    broker.kill();
                    Thread.sleep(2_000);
                    broker.start();
                    crashes.awaitProgress(child, Duration.ofSeconds(90));
                }
                crashes.kill(child);
            }
            appender.close();
        }

        Process last = JavaProcess.start(
                ForwarderChild.class,
                log,
                broker.bootstrapServers(),
                spoolDir.toString(),
                prefix,
                "drain",
                EXACTLY_ONCE);
        assertTrue(last.waitFor(180, TimeUnit.SECONDS), "final forwarder did not drain");
        assertEquals(0, last.exitValue(), Files.readString(log));

        Delivered committed = Delivered.read(broker.readCommittedProperties(), prefix, ids.size());
        Delivered everything = Delivered.read(broker.clientProperties(), prefix, ids.size());
        System.out.println("offered " + ids.size() + "; read_committed: " + committed.messages() + " messages, "
                + committed.duplicates() + " duplicates; read_uncommitted: " + everything.messages()
                + " messages (" + (everything.messages() - committed.messages()) + " of aborted transactions)");
        assertEquals(List.of(), List.copyOf(committed.missing(ids)), "records lost");
        assertEquals(0, committed.duplicates(), "duplicates for a read_committed consumer");
        assertEquals(ids.size(), committed.messages(), "only offered records, each once");
        assertTrue(
                everything.messages() > committed.messages(),
                "no aborted data in the topics: were the records written in transactions at all?");
    }
}
