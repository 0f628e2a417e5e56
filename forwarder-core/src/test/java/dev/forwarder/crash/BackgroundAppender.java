package dev.forwarder.crash;

import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * For the crash tests: this JVM appends to a spool (a second appender process beside the forwarder's), a
 * burst of records every 10 ms, the three data types in turn, and keeps the ids it appended.
 */
final class BackgroundAppender implements AutoCloseable {

    final List<String> ids = new CopyOnWriteArrayList<>();
    private final AtomicBoolean appending = new AtomicBoolean(true);
    private final Thread thread;

    BackgroundAppender(Spool spool, int burst) {
        UUID run = UUID.randomUUID();
        thread = new Thread(
                () -> {
                    long seq = 0;
                    while (appending.get()) {
                        for (int i = 0; i < burst; i++, seq++) {
                            String id = Records.id(run, seq);
                            byte[] json = Records.json(Records.typeOf(seq), id);
                            spool.append(
                                    Records.typeOf(seq),
                                    System.currentTimeMillis(),
                                    MessageKeys.keyOf(json).getBytes(StandardCharsets.UTF_8),
                                    json,
                                    null);
                            ids.add(id);
                        }
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "test-appender");
        thread.start();
    }

    /** Stops appending and waits for the last burst. */
    @Override
    public void close() throws InterruptedException {
        appending.set(false);
        thread.join();
    }
}
