package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.OpenSpool;
import dev.forwarder.internal.spool.RollPeriod;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool's bound protects the disk from an outage's backlog, not from throughput: with a broker that
 * acknowledges everything at once, records written at {@code max_bytes} a minute for ten minutes (simulated
 * time, the real spool, checkpoint and forwarder) are all accepted, and the spool's files never exceed
 * {@code max_bytes}. Before roll files rolled by size, one hourly file took every record and the spool was
 * full after a minute.
 */
class SpoolBoundWithAHealthyBrokerTest {

    @TempDir
    Path dir;

    @Test
    void aHealthyPipelineNeverRefusesARecordAndTheFilesStayUnderTheBound() throws Exception {
        long maxBytes = 16L << 20;
        long[] nowNanos = {TimeUnit.SECONDS.toNanos(1)};
        long epochBase = System.currentTimeMillis(); // retention compares with the files' real write times
        Path spoolDir = dir.resolve("spool");
        ForwarderConfig.Kafka kafka = ForwarderConfig.parse("gateway.observability.kafka { spool { dir = \"" + spoolDir
                        + "\", max_bytes = 16MiB, checkpoint_interval_ms = 1000 } }")
                .kafka();
        long block = SpaceGuard.blockSizeFor(spoolDir, maxBytes);
        Spool.Settings settings = Spool.Settings.defaults()
                .rollPeriod(RollPeriod.HOURLY)
                .rollBytes(OpenSpool.rollBytes(maxBytes))
                .blockSize(block)
                .wallClock(() -> epochBase + TimeUnit.NANOSECONDS.toMillis(nowNanos[0]));
        byte[] json = ("{\"id\":\"x\",\"pad\":\"" + "p".repeat(1000) + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] key = "x".getBytes(StandardCharsets.UTF_8);
        try (Spool spool = new Spool(spoolDir, settings);
                Spool deadLetters = new Spool(spoolDir.resolve("dead-letter"));
                Checkpoint checkpoint = new Checkpoint(spoolDir.resolve("checkpoint"));
                SpaceGuard space = SpaceGuard.measuredByCaller(spool, maxBytes, block, () -> 1L << 40);
                SpaceGuard deadLetterSpace =
                        SpaceGuard.measuredByCaller(deadLetters, maxBytes, block, () -> 1L << 40)) {
            ForwarderAgent agent = new ForwarderAgent(
                    spool,
                    deadLetters,
                    deadLetterSpace,
                    checkpoint,
                    space,
                    kafka,
                    new ForwarderWiring(
                            () -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()),
                            null,
                            Settlements.NONE,
                            DeliveryObserver.NONE,
                            () -> nowNanos[0],
                            () -> epochBase + TimeUnit.NANOSECONDS.toMillis(nowNanos[0])));
            agent.onStart();
            int size = spool.encodedSize(key, json, null);
            long perSecond = maxBytes / 60 / size; // max_bytes a minute
            long accepted = 0;
            long refused = 0;
            long largest = 0;
            for (int tenth = 0; tenth < 10 * 60 * 10; tenth++) { // ten minutes, a tenth of a second at a time
                space.measure(); // as the guard's own thread does, every 100 ms
                for (int i = 0; i < perSecond / 10; i++) {
                    if (space.admits(size)) {
                        spool.append(DataType.CHAT_INFERENCE, 0, key, json, null);
                        space.appended(size);
                        accepted++;
                    } else {
                        refused++;
                    }
                    agent.doWork(nowNanos[0]);
                }
                for (int i = 0; i < 5; i++) {
                    agent.doWork(nowNanos[0]);
                }
                nowNanos[0] += TimeUnit.MILLISECONDS.toNanos(100);
                largest = Math.max(largest, spool.diskBytes());
                assertTrue(
                        spool.diskBytes() <= maxBytes,
                        "at " + tenth / 10 + " s the spool holds " + spool.diskBytes() + " bytes, over max_bytes "
                                + maxBytes);
            }
            System.out.printf(
                    "%d records accepted at %d/s, %d refused, largest spool %d KiB of %d KiB%n",
                    accepted, perSecond, refused, largest >> 10, maxBytes >> 10);
            assertEquals(0, refused, "records refused although every one before them was forwarded");
            assertEquals(accepted, agent.delivered());
        }
    }
}
