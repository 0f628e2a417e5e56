package dev.forwarder;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import dev.forwarder.internal.forward.ForwardingThread;
import dev.forwarder.internal.forward.Redrive;
import dev.forwarder.internal.forward.Replay;
import dev.forwarder.internal.forward.Settlements;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.json.InvalidEventException;
import dev.forwarder.internal.kafka.ClusterCheck;
import dev.forwarder.internal.kafka.MessageSizes;
import dev.forwarder.internal.metrics.ForwarderMetrics;
import dev.forwarder.internal.publish.Publisher;
import dev.forwarder.internal.publish.SyncWaiters;
import dev.forwarder.internal.spool.OpenSpool;
import dev.forwarder.internal.spool.RollPeriod;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable forwarder: append inference records to a local spool, and forward them to Kafka from a
 * thread of its own.
 *
 * <pre>
 * try (Forwarder forwarder = Forwarder.start(ForwarderConfig.load(Path.of("forwarder.conf")))) {
 *     PublishResult r = forwarder.publish(chatInference);        // never blocks on Kafka
 *     forwarder.publish(DataType.MODEL_INFERENCE, jsonBytes);
 *     ForwarderStatus s = forwarder.status();
 * }
 * </pre>
 *
 * <p>{@link #publish} is safe from any number of threads, never throws and never waits for Kafka (unless
 * {@code async_writes = false}, where it waits at most {@code request_timeout_ms}); every offered record
 * is appended or counted as dropped with a reason. {@link #close()} stops accepting, drains what Kafka
 * takes within {@code spool.drain_timeout_ms}, and persists the checkpoint; what is left is sent by the
 * next start on the same spool.
 *
 * <p>A facade: the request path ({@code internal.publish}) and the forwarder thread ({@code internal.forward})
 * are siblings wired here, over a spool opened as one bundle ({@code internal.spool.OpenSpool}); what this
 * process does with it is its {@link Mode}.
 *
 * <p>Misuse: one forwarder per spool directory (a second is refused at start); close it, or records
 * spooled in the last moments are forwarded only at the next start.
 */
public final class Forwarder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    private static final EventCodec VALIDATOR = new EventCodec();

    private final ForwarderConfig config;
    private final ForwarderMetrics metrics;
    private final Mode mode;
    private final Publisher publisher;
    /** The full check for this forwarder's callers (HTTP ingest), counting ids that are not UUIDv7. */
    private final EventCodec checker;
    /** How large a message each topic takes (learned from the cluster); null when output is disabled. */
    private final MessageSizes sizes;

    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closedLatch = new CountDownLatch(1);

    private Forwarder(ForwarderConfig config, MetricRegistry registry, boolean forward, RollPeriod rollPeriod) {
        this.config = config;
        this.metrics =
                new ForwarderMetrics(registry, config.kafka().topicPrefix(), new Gauges(), System::currentTimeMillis);
        this.checker = new EventCodec(metrics::idsNotV7, config.unknownFields() == ForwarderConfig.UnknownFields.CARRY);
        if (!(config.enabled() && config.kafka().enabled())) {
            this.mode = new Mode.Disabled();
            this.sizes = null;
            this.publisher = new Publisher(config, null, null, null, null, metrics, null);
            LOG.info("Kafka output disabled by configuration: records are dropped as DROPPED_DISABLED");
            return;
        }
        ForwarderConfig.Kafka kafka = config.kafka();
        if (!forward && !config.asyncWrites()) {
            metrics.close();
            throw new ForwarderException("gateway.observability.async_writes = false needs the forwarding"
                    + " process: an append-only process cannot wait for Kafka's acknowledgement");
        }
        // An append-only process never asks the cluster: its records are held to no size here (the forwarding
        // process dead-letters one its topic cannot take).
        this.sizes = forward ? new MessageSizes(kafka) : null;
        OpenSpool opened = open(kafka, forward, rollPeriod);
        if (!forward) {
            this.mode = new Mode.Appending(opened);
            this.publisher = new Publisher(config, opened.spool(), opened.space(), null, null, metrics, sizes);
            LOG.info(
                    "appending to spool {}; another process forwards it",
                    kafka.spool().dir());
            return;
        }
        SyncWaiters waiters = config.asyncWrites() ? null : new SyncWaiters(opened.checkpoint()::read);
        ForwardingThread thread = ForwardingThread.start(
                opened, kafka, kafka.startup().requireConnection(), settlementsFor(waiters), metrics, sizes);
        this.mode = new Mode.Forwarding(opened, thread);
        this.publisher = new Publisher(
                config,
                opened.spool(),
                opened.space(),
                new Publisher.Room() {
                    @Override
                    public boolean canDiscard() {
                        return thread.canDiscard();
                    }

                    @Override
                    public void requestRoom(int bytes) {
                        thread.requestRoom(bytes);
                    }
                },
                waiters,
                metrics,
                sizes);
    }

    /**
     * Opens the spool and, when this process forwards and {@code startup.require_connection} is on, checks
     * the cluster; on any failure what was opened is closed and the start fails with the reason.
     */
    private OpenSpool open(ForwarderConfig.Kafka kafka, boolean forward, RollPeriod rollPeriod) {
        OpenSpool opened = null;
        try {
            opened = OpenSpool.open(kafka, forward, rollPeriod);
            if (forward) {
                kafka.securityWarning().ifPresent(LOG::warn);
                if (kafka.startup().requireConnection()) {
                    ClusterCheck.run(kafka, kafka.startup().timeoutMs(), sizes);
                    metrics.connectionsEstablished(1);
                }
            }
            return opened;
        } catch (IOException | ClusterCheck.ClusterCheckException | RuntimeException e) {
            if (e instanceof ClusterCheck.ClusterCheckException) {
                metrics.connectionErrors(1);
            }
            metrics.close();
            if (opened != null) {
                opened.close();
            }
            if (e instanceof ForwarderException fe) {
                throw fe;
            }
            if (e instanceof ClusterCheck.ClusterCheckException) {
                throw new ForwarderException(e.getMessage());
            }
            throw new ForwarderException("cannot open spool " + kafka.spool().dir() + ": " + e.getMessage(), e);
        }
    }

    /** The forwarder tells waiting publishers ({@code async_writes = false}) the fate of their records. */
    private static Settlements settlementsFor(SyncWaiters waiters) {
        if (waiters == null) {
            return Settlements.NONE;
        }
        return Settlements.of(waiters::onCheckpoint, waiters::onFate, waiters::onLost);
    }

    /**
     * Opens the spool, checks Kafka when {@code startup.require_connection} is on, and starts forwarding.
     *
     * @throws ForwarderException if the spool cannot be opened or is forwarded by another process, or Kafka
     *                            cannot be used and the configuration requires it at start
     */
    public static Forwarder start(ForwarderConfig config) {
        return start(config, new MetricRegistry());
    }

    /**
     * As {@link #start(ForwarderConfig)}, registering the metrics in the application's registry (names in
     * README "Metrics"). One forwarder per registry.
     */
    public static Forwarder start(ForwarderConfig config, MetricRegistry registry) {
        return new Forwarder(
                config, registry, true, RollPeriod.of(config.kafka().spool().rollCycle()));
    }

    /**
     * Opens the spool to append only: for a process that shares {@code spool.dir} with the one process that
     * forwards it (several processes may append; one forwards). Publishing is the same; nothing is sent to
     * Kafka from here, and {@code async_writes = false} is refused. Its status shows the forwarder's
     * checkpoint and backlog as read from the spool.
     */
    public static Forwarder startAppender(ForwarderConfig config) {
        return new Forwarder(
                config,
                new MetricRegistry(),
                false,
                RollPeriod.of(config.kafka().spool().rollCycle()));
    }

    /**
     * For tests of this package: a forwarder (or an appender) whose spool rolls to a new file every
     * {@code rollPeriod}, a period configuration does not offer (one second, to see retention at work).
     */
    static Forwarder start(ForwarderConfig config, boolean forward, RollPeriod rollPeriod) {
        return new Forwarder(config, new MetricRegistry(), forward, rollPeriod);
    }

    /**
     * Sends dead-lettered records again, in order, with their original {@code source_id} and
     * {@code spool_index} headers, and removes from the dead-letter spool those Kafka acknowledged (a record
     * refused again stays, with its first reason). For after the cause was fixed: a raised
     * {@code max.message.bytes}, a corrected record. Needs the spool's lock: the forwarder of that spool must
     * be stopped.
     *
     * @param since only records first appended at or after this instant; null for all
     * @param type  only this data type; null for all
     * @throws ForwarderException if a forwarder runs on the spool, or the dead-letter spool cannot be read
     */
    public static RedriveResult redrive(ForwarderConfig config, Instant since, DataType type) {
        return Redrive.run(config.kafka(), since, type);
    }

    /**
     * Sends the spool's retained records appended in {@code [since, until)} to Kafka again, in order, with
     * their original {@code source_id} and {@code spool_index} headers (consumers that dedupe on them drop the
     * copies). Reads only: the checkpoint is not touched, and a forwarder may run on the spool meanwhile.
     *
     * @param until    null: up to the last record
     * @param type     only this data type; null for all
     * @param progress told the number of records sent so far (for a progress line), after each
     * @throws ForwarderException if there is no spool, or Kafka refused a record (replay stops there)
     */
    public static ReplayResult replay(
            ForwarderConfig config, Instant since, Instant until, DataType type, LongConsumer progress) {
        return Replay.run(config.kafka(), since, until, type, progress);
    }

    /**
     * Publishes a typed record: checks it against its ClickHouse table (the same checks as
     * {@link #validate}; a record that fails is dropped as {@code DROPPED_SERIALIZATION_ERROR} with the field
     * named), serialises it, appends it to the spool, and returns. Never throws.
     */
    public PublishResult publish(InferenceRecord record) {
        return publisher.publish(record);
    }

    /**
     * Publishes a record serialised by the caller: one JSON object, UTF-8. The bytes are sent as they are;
     * only the framing is checked here (it must be one {@code {...}} object), to keep the request path
     * short. Never throws.
     *
     * <p><b>Unchecked JSON can fail the downstream insert</b> into TensorZero's ClickHouse tables (a duplicate
     * key, a negative token count, a null name...), hours later and far from here. Callers who cannot vouch
     * for their JSON should run {@link #validate} on it first, off the request path.
     */
    public PublishResult publish(DataType type, byte[] json) {
        return publisher.publish(type, json);
    }

    /**
     * Publishes several records serialised by the caller, all or nothing: each is framed as
     * {@link #publish(DataType, byte[])} requires, and room for all of them is taken in the spool before the
     * first is appended, so either every record is appended or none is (each dropped with the same reason;
     * with {@code on_full = block} or {@code drop_oldest} it waits for room for all of them as a single
     * record would). An I/O fault of the spool between two appends is the one exception: the results say
     * which records were appended. With {@code async_writes = false} it waits, at most
     * {@code request_timeout_ms} in all, for Kafka's answer to each. Never throws.
     *
     * @return one result per record, in the order given
     */
    public List<PublishResult> publishAll(DataType type, List<byte[]> jsons) {
        return publisher.publishAll(type, jsons);
    }

    /** As {@link #publish(DataType, byte[])}, for JSON held as a string. */
    public PublishResult publish(DataType type, String json) {
        if (json == null) {
            return publish(type, (byte[]) null);
        }
        return publish(type, json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The full check of a record's JSON, as HTTP ingest and typed publishing do it: whether TensorZero's
     * gateway's own insert into its ClickHouse table would take it and store every value as sent. One JSON
     * object, no duplicate keys at any depth, no field that is not a column (with the default
     * {@code forwarder.schema.unknown_fields = refuse}; this static check always refuses them), no
     * {@code timestamp}, its ids present, and each column's own rules (UInt32 bounds, canonical UUIDs,
     * {@code snapshot_hash} below 2^256, {@code cost} within Decimal(18,9), no null in a column that is not
     * Nullable, string-valued {@code tags}, tools as the gateway writes them). Costs a parse (microseconds per
     * KB): not for the request path.
     *
     * @return empty when the record would load, else why not, naming the field
     */
    public static Optional<String> validate(DataType type, byte[] json) {
        return validate(VALIDATOR, type, json);
    }

    private static Optional<String> validate(EventCodec codec, DataType type, byte[] json) {
        if (type == null || json == null) {
            return Optional.of(type == null ? "no data type given" : "no JSON given");
        }
        try {
            codec.check(type, json);
            return Optional.empty();
        } catch (InvalidEventException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * As {@link #validate}, and counts the record's ids that are not UUIDv7 in this forwarder's
     * {@code forwarder_event_ids_not_v7} (the static {@code validate} counts nowhere): for a caller that checks
     * records on this forwarder's behalf, as HTTP ingest does.
     */
    public Optional<String> check(DataType type, byte[] json) {
        return validate(checker, type, json);
    }

    /**
     * The most bytes of JSON and key a record of {@code type} may have for {@code publish} to accept it: what
     * its topic takes ({@code max.message.bytes}, learned from the cluster at start; Kafka's default 1 MiB
     * until then), less the message's framing. A larger record is refused as {@code DROPPED_TOO_LARGE}.
     *
     * @return the limit, or -1 when this forwarder holds records to none (output disabled, or an append-only
     *         process, which never asks the cluster)
     */
    public int maxRecordBytes(DataType type) {
        return sizes == null ? -1 : sizes.maxRecordBytes(type);
    }

    /**
     * Whether {@code publish} would append a record of the usual size now: the forwarder is open, output is
     * enabled, and the spool has room (under {@code spool.max_bytes} and its disk's margin). For readiness
     * checks; cheap.
     */
    public boolean acceptsRecords() {
        return publisher.acceptsRecords();
    }

    /** A snapshot of the counts, the checkpoint, the backlog and the forwarder's state. */
    public ForwarderStatus status() {
        return mode.status(publisher.offered(), publisher.appended(), publisher.dropped());
    }

    /** The registry holding this forwarder's metrics. */
    public MetricRegistry metricRegistry() {
        return metrics.registry();
    }

    /**
     * A counter exported with this forwarder's metrics (Prometheus exposition, JMX; Micrometer when bound
     * after it exists), for a component that records through this forwarder. The family must be a lower-case
     * Prometheus name that is not one of the forwarder's; the same family and labels give the same counter.
     */
    public Counter counter(String family, Map<String, String> labels) {
        return metrics.counter(family, labels);
    }

    /** For {@link ForwarderMeterBinder}. */
    ForwarderMetrics metrics() {
        return metrics;
    }

    /** The content type of {@link #writePrometheus}'s output. */
    public static String prometheusContentType() {
        return ForwarderMetrics.prometheusContentType();
    }

    /** Writes this forwarder's metrics in the Prometheus text exposition format. */
    public void writePrometheus(OutputStream out) throws IOException {
        metrics.writePrometheus(out);
    }

    /** The configuration this forwarder runs with. */
    public ForwarderConfig config() {
        return config;
    }

    /**
     * Stops accepting, drains within {@code spool.drain_timeout_ms}, persists the checkpoint. Idempotent and
     * atomic: a second caller (a shutdown hook beside try-with-resources) waits for the first to finish.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            try {
                closedLatch.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            publisher.close(); // refuses new records, waits for appends in progress
            mode.drain(config.kafka().spool().drainTimeoutMs());
            publisher.releaseWaiters();
            mode.closeSpool();
            metrics.close();
            if (!(mode instanceof Mode.Disabled)) {
                LOG.info("{} closed: {}", mode instanceof Mode.Forwarding ? "forwarder" : "appender", status());
            }
        } finally {
            closedLatch.countDown();
        }
    }

    /**
     * What the metric gauges read: the mode, which keeps the spool's last values once it is closed (before
     * the mode exists, during the start, what a disabled forwarder shows).
     */
    private final class Gauges implements ForwarderMetrics.Source {
        private final Mode starting = new Mode.Disabled();

        private Mode mode() {
            Mode m = mode;
            return m == null ? starting : m;
        }

        @Override
        public ForwarderStatus.State state() {
            return mode().state();
        }

        @Override
        public long checkpoint() {
            return mode().checkpoint();
        }

        @Override
        public long backlogRecords() {
            return mode().backlogRecords();
        }

        @Override
        public long meanRecordBytes() {
            Publisher p = publisher;
            return p == null ? 0 : p.meanRecordBytes();
        }

        @Override
        public long oldestUnforwardedAppendTimeMs() {
            return mode().oldestUnforwardedAppendTimeMs();
        }

        @Override
        public long diskBytes() {
            return mode().diskBytes();
        }

        @Override
        public long capacityBytes() {
            return config.kafka().spool().maxBytes();
        }

        @Override
        public long deadLetterBytes() {
            return mode().deadLetterBytes();
        }

        @Override
        public long deadLetterCapacityBytes() {
            return config.kafka().spool().deadLetters().maxBytes();
        }
    }
}
