package dev.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The publishing thread's trace context reaches Kafka as W3C {@code traceparent}/{@code tracestate} headers:
 * a span of the OpenTelemetry SDK (its in-memory exporter says what the span was), a remote parent's trace
 * state; no span, no header; {@code forwarder.tracing.propagate = false}, no header.
 */
@KafkaTest
class TracingIT {

    @Test
    void theCurrentSpansContextBecomesTheRecordsHeaders(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "trace" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .build();
        UUID run = UUID.randomUUID();
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        SpanData span;
        SpanContext remote = SpanContext.createFromRemoteParent(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                TraceFlags.getSampled(),
                TraceState.builder().put("vendor", "v1").put("other", "x").build());
        try (SdkTracerProvider tracing = SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                        .build();
                Forwarder forwarder = Forwarder.start(config)) {
            Tracer tracer = tracing.get("test");
            Span request = tracer.spanBuilder("POST /chat").startSpan();
            try (Scope scope = request.makeCurrent()) {
                forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 0)));
            } finally {
                request.end();
            }
            span = exporter.getFinishedSpanItems().get(0); // before the provider's shutdown empties it
            forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 1)));
            try (Scope scope = Span.wrap(remote).makeCurrent()) {
                forwarder.publishAll(
                        DataType.CHAT_INFERENCE,
                        List.of(
                                Records.json(DataType.CHAT_INFERENCE, Records.id(run, 2)),
                                Records.json(DataType.CHAT_INFERENCE, Records.id(run, 3))));
            }
        }
        Map<String, ConsumerRecord<byte[], byte[]>> byKey = byKey(broker, DataType.CHAT_INFERENCE.topic(prefix), 4);
        ConsumerRecord<byte[], byte[]> traced = byKey.get(Records.id(run, 0));
        assertEquals(
                "00-" + span.getTraceId() + "-" + span.getSpanId() + "-"
                        + span.getSpanContext().getTraceFlags().asHex(),
                header(traced, "traceparent"),
                "the header is the span's context");
        assertNull(header(traced, "tracestate"), "an empty trace state is not written");
        ConsumerRecord<byte[], byte[]> untraced = byKey.get(Records.id(run, 1));
        assertNull(header(untraced, "traceparent"), "no span, no header");
        for (int i = 2; i < 4; i++) {
            ConsumerRecord<byte[], byte[]> batch = byKey.get(Records.id(run, i));
            assertEquals("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", header(batch, "traceparent"));
            assertEquals(
                    "other=x,vendor=v1", header(batch, "tracestate").replace("vendor=v1,other=x", "other=x,vendor=v1"));
        }
        assertTrue(
                header(traced, "source_id") != null && header(traced, "spool_index") != null, "ours are still there");
    }

    @Test
    void propagationSwitchedOffWritesNoHeader(KafkaBroker broker, @TempDir Path dir) throws Exception {
        String prefix = "notrace" + UUID.randomUUID().toString().substring(0, 8);
        ForwarderConfig config = TestConfig.forBroker(broker, dir.resolve("spool"))
                .prefix(prefix)
                .with("forwarder.tracing.propagate = false")
                .build();
        UUID run = UUID.randomUUID();
        SpanContext remote = SpanContext.createFromRemoteParent(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                TraceFlags.getSampled(),
                TraceState.getDefault());
        try (Forwarder forwarder = Forwarder.start(config);
                Scope scope = Span.wrap(remote).makeCurrent()) {
            forwarder.publish(DataType.CHAT_INFERENCE, Records.json(DataType.CHAT_INFERENCE, Records.id(run, 0)));
        }
        ConsumerRecord<byte[], byte[]> message =
                byKey(broker, DataType.CHAT_INFERENCE.topic(prefix), 1).get(Records.id(run, 0));
        assertNull(header(message, "traceparent"));
    }

    private static Map<String, ConsumerRecord<byte[], byte[]>> byKey(KafkaBroker broker, String topic, int expected) {
        Map<String, ConsumerRecord<byte[], byte[]>> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(broker.clientProperties(), topic, expected)) {
            out.put(new String(r.key(), StandardCharsets.UTF_8), r);
        }
        assertEquals(expected, out.size());
        return out;
    }

    private static String header(ConsumerRecord<byte[], byte[]> message, String name) {
        Header h = message.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
