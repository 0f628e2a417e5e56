package dev.forwarder.spring;

import dev.forwarder.Forwarder;
import org.springframework.context.SmartLifecycle;

/**
 * Drains the forwarder when the context stops: in a phase below the web server's (which stops taking
 * requests, then lets those in progress end, at {@code DEFAULT_PHASE - 1024} and {@code - 2048}), so the
 * records of the last requests are spooled before the drain begins, and before any bean is destroyed (the
 * meter registry among them), so the drain's counts are still exported. {@link Forwarder#close} forwards what
 * is spooled for at most {@code spool.drain_timeout_ms}; what it leaves stays in the spool for the next start.
 */
public class ForwarderLifecycle implements SmartLifecycle {

    /** Below the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024}) and its stop ({@code - 2048}). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final Forwarder forwarder;
    private volatile boolean running;

    public ForwarderLifecycle(Forwarder forwarder) {
        this.forwarder = forwarder;
    }

    /** The forwarder started when its bean was made (so other beans may publish as they start). */
    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        forwarder.close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
