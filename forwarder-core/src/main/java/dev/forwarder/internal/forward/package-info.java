/**
 * The forwarder: one thread that reads the spool in order, produces every record into Kafka, and moves the
 * checkpoint only over settled records.
 *
 * <h2>Parts</h2>
 *
 * <ul>
 *   <li>{@link dev.forwarder.internal.forward.ForwarderAgent}: the work, an Agrona {@code Agent}. Each duty
 *       cycle settles what completed, makes room if a publisher asked ({@code on_full = drop_oldest}), does the
 *       step of its state, polls connection metrics and, every {@code spool.checkpoint_interval_ms}, forces the
 *       checkpoint (the spool's data first when {@code spool.sync} is not none) and applies retention.
 *   <li>{@link dev.forwarder.internal.forward.ForwarderRunner}: the thread (Agrona's {@code AgentRunner}), the
 *       idle strategy and the drain at close. The agent never owns its thread.
 *   <li>{@link dev.forwarder.internal.forward.DeliveryWindow}: the records read and not yet settled, with
 *       their bytes and their send attempts; the ordered-acknowledgement part.
 *   <li>{@code ProducerConnection}: getting, replacing and closing the producer; {@code Backoff}.
 *   <li>{@link dev.forwarder.internal.forward.DeadLetters}: the dead-letter spool, bounded.
 *   <li>{@link dev.forwarder.internal.forward.Redrive}: dead letters sent again (a tool, not the thread).
 * </ul>
 *
 * <h2>States</h2>
 *
 * CONNECTING (no producer yet: the cluster check when start-up skipped it, on a thread of its own, then
 * building the producer; both retried with back-off, 100 ms doubling to 5 s), FORWARDING, BACKING_OFF (a send
 * failed: wait until every send in flight has called back and the back-off has passed, replace the producer
 * if it is broken, send the failed records again from the window), DRAINING (closing), CLOSED. A transition
 * is logged once; nothing is logged per record.
 *
 * <h2>The window and the checkpoint</h2>
 *
 * Acknowledgements come back out of order (several partitions and brokers). The checkpoint is the index of
 * the last record of the longest settled prefix of the window: acknowledged, dead-lettered, corrupt, or lost
 * to {@code drop_oldest}. Each settlement is counted once, when the record leaves the window, in spool
 * order, so the counts of a process and the checkpoint always agree. The window holds at most
 * {@code batch_size} x 5 records (the producer's in-flight limit with idempotence); when it is full, reading
 * pauses. A failed send is sent again from the window, which keeps the record's bytes: the spool is read
 * once, and a record acknowledged once is never sent again by this process.
 *
 * <h2>Failures</h2>
 *
 * Classified by {@code Failures} (kafka package): only a record's own fault (too large, invalid) makes it a
 * dead letter. The topic (not authorised, invalid name), the cluster (down, time-outs, leader changes) and
 * the producer (cannot be built, fenced, closed, stuck) are waited out with back-off and said in
 * {@code lastError}. The producer is replaced when it failed, when it kept a record until
 * {@code delivery.timeout.ms} (KAFKA-14359), or when it did not call back at all within
 * {@code delivery.timeout.ms} + {@code request_timeout_ms}; only failures of the current producer count.
 *
 * <h2>Order</h2>
 *
 * Per partition the producer keeps order for what it retries itself, but a send that fails back to us is
 * sent again later; so a record whose key has an earlier record still unacknowledged is held in the window
 * until that one is settled. Keys are mostly unique (the record's id), so this rarely waits.
 *
 * <h2>Crashes</h2>
 *
 * The checkpoint is a memory-mapped file updated at every advance: a process crash loses nothing of it, and
 * the next start resends at most the records that were in the window. After an OS crash with
 * {@code spool.sync = none} the checkpoint may be ahead of the spool: detected at start, the checkpoint goes
 * back, and the spool gets a new source id (its indexes will be used again).
 *
 * <p>Tested by {@code ForwarderAgentTest} (each behaviour, with Kafka's MockProducer and a clock) and
 * {@code ForwarderSimulationTest} (thousands of seeded runs with random faults and crashes).
 */
package dev.forwarder.internal.forward;
