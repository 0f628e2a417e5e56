package dev.forwarder.langchain4j;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

/**
 * The trace context of the thread that made a model call, carried to the thread that records it. The records
 * take the publishing thread's trace context ({@code forwarder.tracing.propagate}); a blocking call is
 * recorded on its own thread, but a streamed one on the HTTP client's, which is in no trace. So
 * {@code onRequest} keeps the caller's context in the call's attributes and {@code onResponse} publishes
 * within it. OpenTelemetry's API is optional: without it nothing is kept and no class of it is loaded.
 */
final class CallTrace {

    static final Object KEY = new Object();
    private static final boolean AVAILABLE = present();

    private CallTrace() {}

    /** The current context, to keep in the call's attributes; null without OpenTelemetry. */
    static Object capture() {
        return AVAILABLE ? Otel.current() : null;
    }

    /** Makes {@code captured} current until the returned scope is closed (nothing to do for null). */
    static AutoCloseable enter(Object captured) {
        return AVAILABLE && captured != null ? Otel.enter(captured) : () -> {};
    }

    private static boolean present() {
        try {
            Class.forName("io.opentelemetry.context.Context", false, CallTrace.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static final class Otel {
        static Object current() {
            return Context.current();
        }

        static AutoCloseable enter(Object captured) {
            if (!(captured instanceof Context context)) {
                return () -> {};
            }
            Scope scope = context.makeCurrent();
            return scope::close;
        }
    }
}
