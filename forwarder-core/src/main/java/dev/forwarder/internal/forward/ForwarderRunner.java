package dev.forwarder.internal.forward;

import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the forwarder thread: Agrona's {@link AgentRunner} parking {@link #idleParkNanos} whenever a duty cycle
 * found nothing to do, an error handler that counts each error of the thread ({@code forwarder_errors}) and hands
 * it to the agent (which says it in lastError and backs off: an error never ends forwarding), and the drain
 * at close: ask the agent to finish, wait for it to end by itself, and only then stop the thread.
 *
 * <p>Misuse: {@link #drainAndClose} once; it may be called from any thread, and the agent's
 * {@code onClose} (producer close, checkpoint force) runs on the forwarder thread.
 */
public final class ForwarderRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ForwarderRunner.class);

    /** Beyond the drain time-out, how long the thread may take to close the producer and force the checkpoint. */
    private static final long CLOSE_GRACE_MS = 30_000;

    /** The longest park of an idle forwarder thread. */
    private static final long MAX_IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final ForwarderAgent agent;
    private final AgentRunner runner;
    private final Thread thread;

    /**
     * How long the forwarder thread parks when a duty cycle found nothing to do: {@code linger_ms}, within
     * 50 µs .. 1 ms. It used to spin, yield and then park from 1 µs up: at 20,000 records/s it woke for nearly
     * every record and scanned the in-flight window each time, 12 µs of CPU per record on two cores
     * (README "Benchmarks": the open-loop CPU account); parking this long it takes what arrived meanwhile in
     * one cycle (3.5 µs per record). A record waits at most this long more before its send, and the producer
     * holds it {@code linger_ms} anyway; below 50 µs the kernel's timer slack rounds a park up regardless.
     * Idle cycle after idle cycle, the park doubles up to 1 ms (so {@code linger_ms = 0} does not wake the
     * thread 20,000 times a second with nothing to do), and goes back to this after work.
     */
    public static long idleParkNanos(long lingerMs) {
        return Math.max(
                TimeUnit.MICROSECONDS.toNanos(50),
                Math.min(MAX_IDLE_PARK_NANOS, TimeUnit.MILLISECONDS.toNanos(lingerMs)));
    }

    /**
     * @param observer counts each error of the forwarder thread
     * @param idleParkNanos see {@link #idleParkNanos(long)}
     */
    public ForwarderRunner(ForwarderAgent agent, DeliveryObserver observer, long idleParkNanos) {
        this.agent = agent;
        this.runner = new AgentRunner(
                new BackoffIdleStrategy(0, 0, idleParkNanos, MAX_IDLE_PARK_NANOS),
                error -> {
                    observer.forwarderError();
                    agent.onError(error); // logs it, backs off; forwarding goes on
                },
                null,
                agent);
        this.thread = AgentRunner.startOnThread(runner, r -> {
            Thread t = new Thread(r, agent.roleName());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Forwards what is spooled until the backlog is empty or {@code drainMs} passes, then closes the producer
     * and forces the checkpoint (the agent's onClose), and stops the thread.
     */
    public void drainAndClose(long drainMs) {
        agent.drain(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMs));
        try {
            thread.join(drainMs + CLOSE_GRACE_MS);
            if (thread.isAlive()) {
                LOG.warn("forwarder thread still busy {} ms after the drain time-out; stopping it", CLOSE_GRACE_MS);
                agent.abort();
            }
        } catch (InterruptedException e) {
            agent.abort();
            Thread.currentThread().interrupt();
        }
        runner.close(); // joins; interrupts only a thread that does not end
    }
}
