package dev.forwarder.internal.publish;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;

/**
 * The publishing thread's W3C trace context, taken into the spool record so that the forwarder writes it as
 * the message's {@code traceparent} (and {@code tracestate}) headers and a consumer can join the record to
 * the trace of the request that made it. OpenTelemetry's API is an optional dependency: without it on the
 * class path, or with {@code forwarder.tracing.propagate = false}, nothing is taken and no OpenTelemetry class
 * is ever loaded. With it and no valid current span (the usual case outside a traced request), the cost is a
 * thread-local read and a check. Public for the benchmarks only.
 */
public final class TraceCapture {

    /** Whether OpenTelemetry's API is on the class path. */
    static final boolean AVAILABLE = present("io.opentelemetry.api.trace.Span");

    private final boolean on;

    /** @param propagate {@code forwarder.tracing.propagate} */
    public TraceCapture(boolean propagate) {
        this.on = propagate && AVAILABLE;
    }

    /** The current trace context as the record's note ("traceparent\ntracestate"), or null when there is none. */
    public byte[] capture() {
        return on ? Otel.current() : null;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, TraceCapture.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Loaded only when OpenTelemetry is there. */
    private static final class Otel {
        private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

        static byte[] current() {
            Context context = Context.current();
            SpanContext span = Span.fromContext(context).getSpanContext();
            if (!span.isValid()) {
                return null;
            }
            String[] headers = new String[2];
            W3C.inject(context, headers, (carrier, key, value) -> {
                if (carrier != null) {
                    carrier["traceparent".equals(key) ? 0 : 1] = value;
                }
            });
            if (headers[0] == null) {
                return null;
            }
            String note = headers[1] == null ? headers[0] : headers[0] + "\n" + headers[1];
            return note.getBytes(StandardCharsets.US_ASCII);
        }
    }
}
