package dev.forwarder.internal.forward;

import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * What the forwarder needs that is not the spool: producers, the clock, the listeners; with
 * {@code delivery = exactly_once}, transactional producers and {@code positions}, Kafka's committed position.
 *
 * @param producers   builds a producer (transactional with exactly_once); may throw for a bad setting or a
 *                    host name that does not resolve yet
 * @param probe       the cluster check run before the first producer, or null when start-up ran it
 * @param settlements tells waiting publishers the fate of their records
 * @param nanoClock   the forwarder's clock (System::nanoTime, or the simulation's)
 * @param epochMillis wall time, for retention and the position records
 * @param positions   exactly_once only (null for at_least_once)
 */
public record ForwarderWiring(
        Supplier<Producer<byte[], byte[]>> producers,
        ClusterProbe probe,
        Settlements settlements,
        DeliveryObserver observer,
        LongSupplier nanoClock,
        LongSupplier epochMillis,
        CommittedPositions positions) {

    /** The cluster check run before the first producer when start-up did not run it. */
    public interface ClusterProbe {
        /** @throws Exception with a message for the operator when the cluster cannot be used yet */
        void check() throws Exception;
    }

    /** {@code delivery = exactly_once}: where Kafka says a spool's forwarding committed up to. */
    public interface CommittedPositions {
        /**
         * The last spool index committed for this source id, read with {@code read_committed}, or
         * {@code Positions.NONE}.
         *
         * @throws RuntimeException when Kafka cannot be read now
         */
        long read(UUID sourceId);
    }

    /** at_least_once: no committed positions. */
    public ForwarderWiring(
            Supplier<Producer<byte[], byte[]>> producers,
            ClusterProbe probe,
            Settlements settlements,
            DeliveryObserver observer,
            LongSupplier nanoClock,
            LongSupplier epochMillis) {
        this(producers, probe, settlements, observer, nanoClock, epochMillis, null);
    }
}
