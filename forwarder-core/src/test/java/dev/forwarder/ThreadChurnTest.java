package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.JvmResources;
import dev.forwarder.testkit.Records;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishing from threads that come and go (a pool that churns its threads, a thread per request) leaks
 * nothing: the heap the spool holds and the open files stay flat from round to round, and every record is
 * appended. With one Chronicle appender per thread (kept by Chronicle until close), each round of 3,000
 * threads retained megabytes; this test failed on that design.
 */
class ThreadChurnTest {

    private static final int ROUNDS = 4;
    private static final int THREADS_PER_ROUND = 3_000;

    @Test
    void shortLivedThreadsLeaveNoHeapAndNoFilesBehind(@TempDir Path dir) throws Exception {
        ForwarderConfig config = ForwarderConfig.parse(
                "gateway.observability.kafka {\n" + "  spool.dir = \"" + dir.resolve("spool") + "\"\n" + "}\n");
        UUID run = UUID.randomUUID();
        AtomicInteger accepted = new AtomicInteger();
        long[] heap = new long[ROUNDS];
        long[] files = new long[ROUNDS];
        try (Forwarder forwarder = Forwarder.startAppender(config)) {
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < THREADS_PER_ROUND; i++) {
                    int seq = round * THREADS_PER_ROUND + i;
                    Thread t = new Thread(() -> {
                        DataType type = Records.typeOf(seq);
                        if (forwarder
                                .publish(type, Records.json(type, Records.id(run, seq)))
                                .accepted()) {
                            accepted.incrementAndGet();
                        }
                    });
                    t.start();
                    t.join();
                }
                heap[round] = JvmResources.usedHeapAfterGc();
                files[round] = JvmResources.openFiles();
            }
            assertEquals(ROUNDS * THREADS_PER_ROUND, accepted.get());
            assertEquals(ROUNDS * THREADS_PER_ROUND, forwarder.status().appended());
        }
        // After the first round (class loading, the first mappings), nothing may accumulate: 3,000 leaked
        // appenders are well over 8 MiB; the record bytes themselves live in the mapped files, not the heap.
        long growth = heap[ROUNDS - 1] - heap[0];
        assertTrue(
                growth < 8L << 20,
                "heap grew " + (growth >> 10) + " KiB over " + (ROUNDS - 1) + " rounds of " + THREADS_PER_ROUND
                        + " threads: " + Arrays.toString(heap));
        assertTrue(files[ROUNDS - 1] - files[0] <= 4, "open files grew: " + Arrays.toString(files));
    }
}
