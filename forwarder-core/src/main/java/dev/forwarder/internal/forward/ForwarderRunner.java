package dev.forwarder.internal.forward;

import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the forwarder thread: Agrona's {@link AgentRunner} with a back-off idle strategy (spin, yield, then
 * park up to 1 ms), an error handler that counts each error of the thread ({@code forwarder_errors}) and hands
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

    private final ForwarderAgent agent;
    private final AgentRunner runner;
    private final Thread thread;

    /** @param observer counts each error of the forwarder thread */
    public ForwarderRunner(ForwarderAgent agent, DeliveryObserver observer) {
        this.agent = agent;
        this.runner = new AgentRunner(
                new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1)),
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
