/**
 * The forwarder: one thread that reads the spool in order, produces every record into Kafka, and moves the
 * checkpoint only over settled records.
 *
 * <h2>Design constraints</h2>
 *
 * <ul>
 *   <li>The request path never waits for Kafka: publishers only append to the spool; this package is the one
 *       reader, on a thread of its own (one forwarder per spool, held by the spool's lock).
 *   <li>A record accepted into the spool reaches Kafka at least once ({@code delivery = at_least_once}) or
 *       once ({@code exactly_once}), or is counted: dead-lettered, corrupt, or lost (drop_oldest, or a dead
 *       letter with nowhere to go). The counts of a process and its checkpoint always agree.
 *   <li>The checkpoint only passes settled records, in spool order, so a crash at any instant resends at
 *       most what was in flight (at_least_once) or nothing Kafka committed (exactly_once).
 *   <li>Nothing a failure does ends forwarding but fencing: the cluster, the topic and the producer are
 *       waited out with back-off and said in {@code lastError}; a record's own fault makes it a dead letter.
 *   <li>Time is injected (a nanosecond clock, wall time), and so is the producer: the seeded simulations
 *       drive the real classes of this package without sleeping.
 * </ul>
 *
 * <h2>Parts</h2>
 *
 * <ul>
 *   <li>{@link dev.forwarder.internal.forward.ForwarderAgent}: the Agrona {@code Agent}. It owns the state,
 *       the last error, the back-off and the drain, and its duty cycle is a table of contents: settle, make
 *       room, the state's step, connection metrics, checkpoint upkeep, the drain's end.
 *   <li>{@link dev.forwarder.internal.forward.ForwarderRunner}: the thread (Agrona's {@code AgentRunner}), the
 *       idle strategy, the error handler that counts errors ({@code forwarder_errors}), the drain at close.
 *   <li>{@code Delivery}: the delivery mode, the only part the two modes do differently, returning
 *       {@code Outcome}s that only the agent acts on. {@code AtLeastOnceDelivery} sends records one by one
 *       through the {@code DeliveryWindow}; {@code ExactlyOnceDelivery} sends them in a
 *       {@code Transaction} with the spool position.
 *   <li>{@code Settler}: counts each settled record once by its fate, writes dead letters
 *       ({@link dev.forwarder.internal.forward.DeadLetters}), tells waiting publishers
 *       ({@link dev.forwarder.internal.forward.Settlements}) and the metrics
 *       ({@link dev.forwarder.internal.forward.DeliveryObserver}), and advances the checkpoint.
 *   <li>{@code ProducerConnection}: the only reference to the producer; the cluster check, building,
 *       replacing and closing it, and its connection metrics.
 *   <li>{@code RoomMaker} ({@code on_full = drop_oldest}), {@code CheckpointKeeper} (forcing the checkpoint,
 *       retention), {@code SourceFork} (a new source id when the spool's indexes will be used again),
 *       {@code SpoolMessages} (a spool record's Kafka message).
 *   <li>{@link dev.forwarder.internal.forward.Redrive} and {@link dev.forwarder.internal.forward.Replay}:
 *       tools that send dead letters, or a range of the spool, again (not the thread).
 * </ul>
 *
 * <h2>States</h2>
 *
 * <pre>
 *   CONNECTING ──ready──▶ FORWARDING ──failure──▶ BACKING_OFF ──recovered──▶ FORWARDING
 *        │                    │  (DRAINING while draining)  │
 *        └────────fenced──────┴──────────▶ FENCED ◀─────────┘       any ──close──▶ CLOSED
 * </pre>
 *
 * CONNECTING: no producer yet (the cluster check when start-up skipped it, on a thread of its own, then
 * building the producer, then the delivery's start: {@code initTransactions} and the committed position with
 * exactly_once), retried with back-off, 100 ms doubling to 5 s. FORWARDING: the delivery's step. BACKING_OFF:
 * a failure is waited out; once the back-off has passed the delivery recovers (a new producer if need be) and
 * sends again. FENCED (exactly_once): another producer took this spool's transactional id; nothing more is
 * forwarded. The agent refuses a transition not drawn here. A transition is logged once; nothing is logged
 * per record.
 *
 * <h2>at_least_once: the window and the checkpoint</h2>
 *
 * Acknowledgements come back out of order (several partitions and brokers). The checkpoint is the index of
 * the last record of the longest settled prefix of the window: acknowledged, dead-lettered, corrupt, or lost
 * to {@code drop_oldest}. Each settlement is counted once, when the record leaves the window, in spool
 * order. The window holds at most {@code batch_size} x 5 records (the producer's in-flight limit with
 * idempotence), and at most half the producer's {@code buffer.memory} of their bytes; when it is full,
 * reading pauses. A failed send is sent again from the window, which keeps the record's bytes: the spool is
 * read once, and a record acknowledged once is never sent again by this process. Per partition the producer
 * keeps order for what it retries itself, but a send that fails back to us is sent again later; so a record
 * whose key has an earlier record still unacknowledged is held until that one is settled.
 *
 * <p>The producer is replaced when it failed, when it kept a record until {@code delivery.timeout.ms}
 * (KAFKA-14359), or when it did not call back at all within {@code delivery.timeout.ms} +
 * {@code request_timeout_ms}; only failures of the current producer count.
 *
 * <h2>exactly_once: transactions</h2>
 *
 * Records are sent inside a Kafka transaction that also writes the spool position (key = the spool's source
 * id, value = the last index it carries) to the compacted {@code {prefix}_forwarder_positions}; the
 * transactional id is derived from the source id. A transaction commits at {@code batch_size} records, at
 * half the producer's {@code buffer.memory} of their bytes, or {@code linger_ms} after its first; its records
 * settle at the commit, which is when the checkpoint moves.
 * Invariants:
 *
 * <ul>
 *   <li>Kafka's committed position for a source id is the local checkpoint (the local one follows Kafka's at
 *       every start: Kafka's is the truth, the local one drives retention).
 *   <li>A record Kafka refuses for good is dead-lettered, the transaction is aborted and sent again without it;
 *       it is never sent again by this process.
 *   <li>Any other failure drops the producer; the next one's {@code initTransactions} ends the open
 *       transaction, and the position it reads says whether a commit in doubt took effect: if so its records
 *       settle, if not they are sent again.
 *   <li>A committed position beyond the spool's last record means the spool's indexes would be reused (an
 *       older copy of the spool, or an OS crash): the spool gets a new source id first ({@code SourceFork}).
 *   <li>Room is made (drop_oldest) only between transactions.
 * </ul>
 *
 * <h2>Failures</h2>
 *
 * Classified by {@code Failures} (kafka package), after Kafka's {@code Callback} documentation: RECORD (too
 * large, invalid: a dead letter), TOPIC (not authorised, invalid name: waited out, said in lastError),
 * RETRIABLE (the cluster: back off and send again), PRODUCER (replace the producer), FENCED (exactly_once:
 * stop; at_least_once: as PRODUCER). An error of the forwarder thread itself (a bug, a fault of a mapped file
 * on a full disk) is counted by the runner, said in lastError, and backed off from.
 *
 * <h2>Crashes</h2>
 *
 * The checkpoint is a memory-mapped file updated at every advance: a process crash loses nothing of it, and
 * the next start resends at most the records that were in flight (exactly_once: an open transaction is
 * aborted by the next producer, and its records sent again). After an OS crash with {@code spool.sync = none}
 * the checkpoint may be ahead of the spool: detected at start, the checkpoint goes back, and the spool gets
 * a new source id (its indexes will be used again).
 *
 * <p>Tested by {@code ForwarderAgentTest} (each behaviour, with Kafka's MockProducer and a clock),
 * {@code ForwarderSimulationTest} and {@code ExactlyOnceSimulationTest} (thousands of seeded runs with random
 * faults and crashes, one per delivery mode), and the real-broker and crash tests of the module.
 */
package dev.forwarder.internal.forward;
