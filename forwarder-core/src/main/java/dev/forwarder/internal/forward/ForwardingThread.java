package dev.forwarder.internal.forward;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.internal.kafka.ClusterCheck;
import dev.forwarder.internal.kafka.MessageSizes;
import dev.forwarder.internal.kafka.Positions;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.OpenSpool;
import java.time.Duration;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Forwarding one opened spool into Kafka: the agent built with real producers ({@code KafkaProducer}, made
 * transactional for {@code delivery = exactly_once}, with the positions read from Kafka), started on its
 * thread. What the public {@code Forwarder} sees of it: the state and counts, room for publishers, the drain.
 */
public final class ForwardingThread {

    private final ForwarderAgent agent;
    private final ForwarderRunner runner;

    private ForwardingThread(ForwarderAgent agent, ForwarderRunner runner) {
        this.agent = agent;
        this.runner = runner;
    }

    /**
     * Starts the forwarder thread on {@code opened}.
     *
     * @param checkedAtStart whether start-up already checked the cluster ({@code startup.require_connection});
     *                       if not, the thread checks it before its first producer
     * @param sizes          what the topics take, learned by the check; sizes the producers it builds
     */
    public static ForwardingThread start(
            OpenSpool opened,
            ForwarderConfig.Kafka kafka,
            boolean checkedAtStart,
            Settlements settlements,
            DeliveryObserver observer,
            MessageSizes sizes) {
        ForwarderWiring.ClusterProbe probe = checkedAtStart
                ? null
                : () -> ClusterCheck.run(kafka, Math.min(kafka.startup().timeoutMs(), 5_000), sizes);
        ForwarderWiring wiring = kafka.delivery() == ForwarderConfig.Delivery.EXACTLY_ONCE
                ? new ForwarderWiring(
                        () -> new KafkaProducer<>(ProducerSettings.transactionalProducer(
                                kafka, opened.spool().sourceId(), sizes)),
                        probe,
                        settlements,
                        observer,
                        System::nanoTime,
                        System::currentTimeMillis,
                        source -> Positions.read(
                                kafka, source, Duration.ofMillis(Math.max(kafka.requestTimeoutMs(), 10_000))))
                : new ForwarderWiring(
                        () -> new KafkaProducer<>(ProducerSettings.producer(kafka, sizes)),
                        probe,
                        settlements,
                        observer,
                        System::nanoTime,
                        System::currentTimeMillis);
        ForwarderAgent agent = new ForwarderAgent(
                opened.spool(),
                opened.deadLetters(),
                opened.deadLetterSpace(),
                opened.checkpoint(),
                opened.space(),
                kafka,
                wiring);
        return new ForwardingThread(
                agent, new ForwarderRunner(agent, observer, ForwarderRunner.idleParkNanos(kafka.lingerMs())));
    }

    /** With on_full = drop_oldest, a publisher found the spool full: discard a roll file if still needed. */
    public void requestRoom(int bytes) {
        agent.requestRoom(bytes);
    }

    /** Whether a roll file could be discarded now (there is one besides the newest). Any thread. */
    public boolean canDiscard() {
        return agent.canDiscard();
    }

    /** Forwards what is spooled for at most {@code drainMs}, then stops the thread (the checkpoint forced). */
    public void drainAndClose(long drainMs) {
        runner.drainAndClose(drainMs);
    }

    public ForwarderStatus.State state() {
        return agent.state();
    }

    public long delivered() {
        return agent.delivered();
    }

    public long deadLettered() {
        return agent.deadLettered();
    }

    public long corrupt() {
        return agent.corrupt();
    }

    public long lost() {
        return agent.lost();
    }

    public int inFlight() {
        return agent.inFlight();
    }

    public String lastError() {
        return agent.lastError();
    }
}
