package dev.forwarder.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.ProducerSettings;
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
 * The forwarder runs in a child JVM and is SIGKILLed several times mid-stream while another process keeps
 * appending to the same spool; each time it is started again on that spool. Nothing may be lost, and the
 * duplicates stay within one in-flight window per kill.
 */
@KafkaTest
class ForwarderCrashIT {

    private static final int KILLS = 3;

    @Test
    void sigkilledForwarderLosesNothing(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spoolDir = dir.resolve("spool");
        String prefix = "crash" + UUID.randomUUID().toString().substring(0, 8);
        List<String> ids;

        // This JVM appends to the spool (a second appender process beside the forwarder), ~10k records/s.
        try (Spool spool = new Spool(spoolDir)) {
            BackgroundAppender appender = new BackgroundAppender(spool, 100);
            ids = appender.ids;

            Path log = dir.resolve("forwarder.log");
            CrashLoop crashes = new CrashLoop(spool, log);
            for (int kill = 0; kill < KILLS; kill++) {
                Process child = JavaProcess.start(
                        ForwarderChild.class, log, broker.bootstrapServers(), spoolDir.toString(), prefix, "run");
                crashes.awaitProgress(child, Duration.ofSeconds(60)); // mid-stream: it has forwarded some
                crashes.kill(child);
            }
            appender.close();
        }

        Process last = JavaProcess.start(
                ForwarderChild.class,
                dir.resolve("forwarder.log"),
                broker.bootstrapServers(),
                spoolDir.toString(),
                prefix,
                "drain");
        assertTrue(last.waitFor(180, TimeUnit.SECONDS), "final forwarder did not drain");
        assertEquals(0, last.exitValue(), Files.readString(dir.resolve("forwarder.log")));

        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
        int window = ProducerSettings.inFlightWindow(ForwarderConfig.defaults().kafka());
        System.out.println("offered " + ids.size() + ", delivered " + delivered.messages() + " messages, "
                + delivered.distinct() + " distinct, " + delivered.duplicates() + " duplicates after " + KILLS
                + " kills (bound " + KILLS * window + ")");
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)), "records lost");
        assertEquals(ids.size(), delivered.distinct(), "only offered ids arrive");
        assertTrue(
                delivered.duplicates() <= KILLS * window,
                delivered.duplicates() + " duplicates exceed " + KILLS + " kills x window " + window);
    }
}
