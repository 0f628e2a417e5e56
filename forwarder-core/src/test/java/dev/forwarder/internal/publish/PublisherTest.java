package dev.forwarder.internal.publish;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import dev.forwarder.testkit.SpoolContents;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublisherTest {

    @TempDir
    Path dir;

    private static final Publisher.Observer NO_METRICS = new Publisher.Observer() {
        @Override
        public void appended(long nanos, boolean sampled) {}

        @Override
        public void dropped(PublishResult.Status reason) {}

        @Override
        public void idsNotV7(long count) {}
    };

    /** drop_oldest with nothing to discard (one roll file): the record is refused at once, nobody is asked. */
    @Test
    void aFullSpoolWithNothingToDiscardRefusesWithoutAskingOrWaiting() throws Exception {
        ForwarderConfig config = ForwarderConfig.parse(
                "gateway.observability.kafka.spool { dir = \"" + dir + "\", on_full = drop_oldest }");
        AtomicInteger asked = new AtomicInteger();
        boolean[] discardable = {false};
        Publisher.Room room = new Publisher.Room() {
            @Override
            public boolean canDiscard() {
                return discardable[0];
            }

            @Override
            public void requestRoom(int bytes) {
                asked.incrementAndGet();
            }
        };
        try (Spool spool = new Spool(dir);
                SpaceGuard full = SpaceGuard.measuredByCaller(spool, 1L << 40, 1 << 20, () -> 0L)) {
            Publisher publisher = new Publisher(config, spool, full, room, null, NO_METRICS, null);
            PublishResult r = publisher.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a\"}".getBytes());
            assertEquals(PublishResult.Status.DROPPED_SPOOL_FULL, r.status());
            assertEquals(0, asked.get(), "nothing could be discarded: the forwarder is not asked");

            discardable[0] = true;
            r = publisher.publish(DataType.CHAT_INFERENCE, "{\"id\":\"b\"}".getBytes());
            assertEquals(PublishResult.Status.DROPPED_SPOOL_FULL, r.status(), "no room was made");
            assertEquals(1, asked.get());
            assertEquals(2, publisher.offered());
            assertEquals(0, publisher.appended());
            assertEquals(2L, publisher.dropped().get(PublishResult.Status.DROPPED_SPOOL_FULL));
        }
    }

    /**
     * The metrics fail (as the Prometheus client did without its tracer-initializer jar, which Micrometer's
     * registry excludes): the records are in the spool, so publish still answers ACCEPTED, for one record and
     * for a batch, and does not throw into the caller.
     */
    @Test
    void aFaultOfTheMetricsDoesNotTurnAnAcceptedRecordIntoAnException() throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool { dir = \"" + dir + "\" }");
        AtomicInteger told = new AtomicInteger();
        Publisher.Observer broken = new Publisher.Observer() {
            @Override
            public void appended(long nanos, boolean sampled) {
                told.incrementAndGet();
                throw new NoClassDefFoundError("io/prometheus/metrics/tracer/initializer/SpanContextSupplier");
            }

            @Override
            public void dropped(PublishResult.Status reason) {}

            @Override
            public void idsNotV7(long count) {}
        };
        try (Spool spool = new Spool(dir);
                SpaceGuard room = SpaceGuard.measuredByCaller(spool, 1L << 40, 1 << 20, () -> 1L << 40)) {
            Publisher publisher = new Publisher(config, spool, room, null, null, broken, null);
            for (int i = 0; i < 3; i++) {
                PublishResult r = publisher.publish(DataType.CHAT_INFERENCE, ("{\"id\":\"" + i + "\"}").getBytes());
                assertEquals(PublishResult.Status.ACCEPTED, r.status());
            }
            List<PublishResult> batch = publisher.publishAll(
                    DataType.CHAT_INFERENCE, List.of("{\"id\":\"x\"}".getBytes(), "{\"id\":\"y\"}".getBytes()));
            assertEquals(
                    List.of(PublishResult.Status.ACCEPTED, PublishResult.Status.ACCEPTED),
                    batch.stream().map(PublishResult::status).toList());
            assertEquals(5, told.get(), "the observer was asked each time");
            assertEquals(5, publisher.appended());
        }
    }

    /**
     * Typed publishes from several threads at once go through the writers' pool: each record lands in the spool
     * with the bytes of the codec's Jackson serialisation and its id as the key, a record with extra fields
     * (left to Jackson) and a 2 MB one among them, and the small records after the large one are whole.
     */
    @Test
    void typedRecordsLandAsJacksonWritesThemFromManyThreads() throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + dir + "\"\n"
                + "forwarder.schema.unknown_fields = carry");
        EventCodec codec = new EventCodec(count -> {}, true);
        int threads = 4;
        int each = 300;
        try (Spool spool = new Spool(dir);
                SpaceGuard room = SpaceGuard.measuredByCaller(spool, 1L << 40, 0, () -> 1L << 40)) {
            Publisher publisher = new Publisher(config, spool, room, null, null, NO_METRICS, null);
            Map<String, byte[]> expected = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        String text = thread == 0 && i == 7 ? "x".repeat(2 << 20) : "record " + thread + "/" + i;
                        ChatInference record = chat(text);
                        if (i % 50 == 3) {
                            record.extraFields().put("carried", "extra " + i);
                        }
                        expected.put(record.id().toString(), codec.serialize(record));
                        assertEquals(
                                PublishResult.Status.ACCEPTED,
                                publisher.publish(record).status());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            List<SpoolRecord.Entry> entries = SpoolContents.of(spool);
            assertEquals(threads * each, entries.size());
            for (SpoolRecord.Entry e : entries) {
                String key = new String(e.keyBytes(), StandardCharsets.UTF_8);
                assertArrayEquals(expected.get(key), e.payload(), "payload of " + key);
            }
        }
    }

    private static ChatInference chat(String text) {
        ObjectNode input = JsonNodeFactory.instance.objectNode();
        input.putArray("messages").addObject().put("role", "user").put("content", text);
        return new ChatInference(
                UUID.randomUUID(),
                "f",
                "v",
                UUID.randomUUID(),
                input,
                null,
                null,
                null,
                5L,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }
}
