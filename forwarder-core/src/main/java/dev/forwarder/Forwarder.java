package dev.forwarder;

import com.codahale.metrics.MetricRegistry;
import dev.forwarder.internal.forward.ForwarderAgent;
import dev.forwarder.internal.forward.ForwarderRunner;
import dev.forwarder.internal.forward.Settlements;
import dev.forwarder.internal.kafka.ClusterCheck;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.metrics.ForwarderMetrics;
import dev.forwarder.internal.publish.Publisher;
import dev.forwarder.internal.publish.SyncWaiters;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.SpaceGuard;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import dev.forwarder.internal.spool.SpoolLock;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
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
 * <p>Misuse: one forwarder per spool directory (a second is refused at start); close it, or records
 * spooled in the last moments are forwarded only at the next start.
 */
public final class Forwarder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

    private final ForwarderConfig config;
    private final Spool spool;
    private final Spool deadLetters;
    private final Checkpoint checkpoint;
    private final SpoolLock lock;
    private final SpaceGuard space;
    private final ForwarderAgent agent;
    private final ForwarderRunner runner;
    private final boolean accepting;
    private final boolean forwarding;
    private final ForwarderMetrics metrics;
    private final SpaceGuard deadLetterSpace;
    private final Publisher publisher;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closedLatch = new CountDownLatch(1);
    private volatile boolean closed;
    /** The backlog when the spool was closed (it cannot be read after). */
    private volatile long lastBacklog;

    private volatile boolean spoolClosed;
    private volatile long lastOldest = -1;
    private volatile long lastDiskBytes;

    private Forwarder(ForwarderConfig config, MetricRegistry registry, boolean forward) {
        this.config = config;
        this.forwarding = forward;
        this.accepting = config.enabled() && config.kafka().enabled();
        this.metrics = new ForwarderMetrics(
                registry, config.kafka().topicPrefix(), new MetricsSource(), System::currentTimeMillis);
        if (!accepting) {
            spool = null;
            deadLetters = null;
            checkpoint = null;
            space = null;
            lock = null;
            agent = null;
            runner = null;
            deadLetterSpace = null;
            publisher = new Publisher(config, null, null, null, null, metrics);
            LOG.info("Kafka output disabled by configuration: records are dropped as DROPPED_DISABLED");
            return;
        }
        ForwarderConfig.Kafka kafka = config.kafka();
        java.nio.file.Path dir = kafka.spool().dir();
        SpoolLock acquired = null;
        Spool opened = null;
        Spool openedDeadLetters = null;
        Checkpoint openedCheckpoint = null;
        SpaceGuard openedGuard = null;
        SpaceGuard openedDeadLetterGuard = null;
        try {
            dev.forwarder.internal.spool.OwnerOnly.directory(dir);
            if (!forward && !config.asyncWrites()) {
                throw new ForwarderException("gateway.observability.async_writes = false needs the forwarding"
                        + " process: an append-only process cannot wait for Kafka's acknowledgement");
            }
            acquired = forward ? SpoolLock.acquire(dir) : null;
            long blockSize = SpaceGuard.blockSizeFor(dir, kafka.spool().maxBytes());
            opened = new Spool(
                    dir,
                    Spool.rollCycle(kafka.spool().rollCycle()),
                    blockSize,
                    kafka.spool().sync() == ForwarderConfig.SyncPolicy.EVERY_RECORD);
            openedDeadLetters = new Spool(dir.resolve("dead-letter"), Spool.DEFAULT_ROLL_CYCLE, blockSize);
            openedDeadLetterGuard = SpaceGuard.measuredByCaller(
                    openedDeadLetters, kafka.spool().maxBytes(), blockSize, SpaceGuard.usableSpaceOf(dir));
            openedGuard = new SpaceGuard(
                    opened,
                    kafka.spool().maxBytes(),
                    blockSize,
                    kafka.spool().sync() == ForwarderConfig.SyncPolicy.INTERVAL
                            ? kafka.spool().syncIntervalMs()
                            : 0);
            if (!openedGuard.admits(0)) {
                LOG.warn(
                        "spool {} starts full: {} MiB usable on its disk, {} MiB of max_bytes {} MiB in use;"
                                + " records are refused until there is room",
                        dir,
                        openedGuard.usableBytes() >> 20,
                        openedGuard.spoolBytes() >> 20,
                        kafka.spool().maxBytes() >> 20);
            }
            openedCheckpoint = new Checkpoint(dir.resolve("checkpoint"));
            SpoolKeys keys = kafka.spool().encryptionKeyFile().isPresent()
                    ? SpoolKeys.load(kafka.spool().encryptionKeyFile().get())
                    : null;
            opened.sealWith(keys);
            openedDeadLetters.sealWith(keys);
            opened.pretouch();
            if (forward) {
                refuseRecordsWithoutTheirKey(opened, openedCheckpoint.read(), keys);
                kafka.securityWarning().ifPresent(LOG::warn);
            }
            if (forward && kafka.startup().requireConnection()) {
                ClusterCheck.run(kafka, kafka.startup().timeoutMs());
            }
        } catch (IOException | ClusterCheck.ClusterCheckException | RuntimeException e) {
            if (e instanceof ClusterCheck.ClusterCheckException) {
                metrics.connectionErrors(1);
            }
            metrics.close();
            closeQuietly(openedGuard);
            closeQuietly(openedDeadLetterGuard);
            closeQuietly(openedCheckpoint);
            closeQuietly(openedDeadLetters);
            closeQuietly(opened);
            closeQuietly(acquired);
            if (e instanceof ForwarderException fe) {
                throw fe;
            }
            if (e instanceof ClusterCheck.ClusterCheckException) {
                throw new ForwarderException(e.getMessage());
            }
            throw new ForwarderException("cannot open spool " + dir + ": " + e.getMessage(), e);
        }
        if (forward && kafka.startup().requireConnection()) {
            metrics.connectionsEstablished(1);
        }
        this.lock = acquired;
        this.space = openedGuard;
        this.spool = opened;
        this.deadLetters = openedDeadLetters;
        this.checkpoint = openedCheckpoint;
        this.deadLetterSpace = openedDeadLetterGuard;
        if (!forward) {
            this.agent = null;
            this.runner = null;
            this.publisher = new Publisher(config, spool, space, null, null, metrics);
            LOG.info("appending to spool {}; another process forwards it", dir);
            return;
        }
        Checkpoint cp = openedCheckpoint;
        SyncWaiters waiters = config.asyncWrites() ? null : new SyncWaiters(cp::read);
        ForwarderAgent.ClusterProbe probe = kafka.startup().requireConnection()
                ? null
                : () -> ClusterCheck.run(kafka, Math.min(kafka.startup().timeoutMs(), 5_000));
        this.agent = new ForwarderAgent(
                spool,
                deadLetters,
                openedDeadLetterGuard,
                checkpoint,
                space,
                kafka,
                kafka.delivery() == ForwarderConfig.Delivery.EXACTLY_ONCE
                        ? new ForwarderAgent.Wiring(
                                () -> new KafkaProducer<>(
                                        ProducerSettings.transactionalProducer(kafka, spool.sourceId())),
                                probe,
                                waiters == null ? Settlements.NONE : waiters,
                                metrics,
                                System::nanoTime,
                                System::currentTimeMillis,
                                source -> dev.forwarder.internal.kafka.Positions.read(
                                        kafka,
                                        source,
                                        java.time.Duration.ofMillis(Math.max(kafka.requestTimeoutMs(), 10_000))))
                        : new ForwarderAgent.Wiring(
                                () -> new KafkaProducer<>(ProducerSettings.producer(kafka)),
                                probe,
                                waiters == null ? Settlements.NONE : waiters,
                                metrics,
                                System::nanoTime,
                                System::currentTimeMillis));
        ForwarderAgent room = agent;
        this.publisher = new Publisher(
                config,
                spool,
                space,
                new Publisher.Room() {
                    @Override
                    public boolean canDiscard() {
                        return room.canDiscard();
                    }

                    @Override
                    public void requestRoom(int bytes) {
                        room.requestRoom(bytes);
                    }
                },
                waiters,
                metrics);
        this.runner = new ForwarderRunner(agent);
    }

    /**
     * Opens the spool, checks Kafka when {@code startup.require_connection} is on, and starts forwarding.
     *
     * @throws ForwarderException if the spool cannot be opened or is forwarded by another process, or Kafka
     *                            cannot be used and the configuration requires it at start
     */
    /**
     * An encrypted spool is only forwarded with the keys of every unforwarded record at hand: otherwise the
     * start fails, naming the keys that are missing, and nothing in the spool is touched.
     */
    private static void refuseRecordsWithoutTheirKey(Spool spool, long checkpoint, SpoolKeys keys) {
        java.util.Map<Long, Long> sealing = spool.sealingKeysAfter(checkpoint);
        java.util.List<String> missing = new java.util.ArrayList<>();
        long count = 0;
        for (java.util.Map.Entry<Long, Long> e : sealing.entrySet()) {
            long id = e.getKey();
            if (id != SpoolRecord.NOT_SEALED && (keys == null || !keys.holds((int) id))) {
                missing.add(SpoolKeys.name((int) id));
                count += e.getValue();
            }
        }
        if (missing.isEmpty()) {
            if (keys != null && sealing.containsKey(SpoolRecord.NOT_SEALED)) {
                LOG.info(
                        "spool {} holds {} unforwarded records written before encryption was on; they are"
                                + " forwarded as they are",
                        spool.dir(),
                        sealing.get(SpoolRecord.NOT_SEALED));
            }
            if (keys != null) {
                LOG.info(
                        "spool {}: records sealed with key {} from {}",
                        spool.dir(),
                        SpoolKeys.name(keys.activeId()),
                        keys.file());
            }
            return;
        }
        throw new ForwarderException("spool " + spool.dir() + " holds " + count + " unforwarded records sealed"
                + " with key " + String.join(", ", missing)
                + (keys == null
                        ? ", but gateway.observability.kafka.spool.encryption.key_file is not set: set it to the key"
                                + " file that holds " + (missing.size() == 1 ? "that key" : "those keys")
                        : ", which " + keys.file() + " does not hold (it holds " + String.join(", ", keys.names())
                                + "): add the key back to that file, below the active one")
                + "; nothing in the spool was changed");
    }

    public static Forwarder start(ForwarderConfig config) {
        return new Forwarder(config, new MetricRegistry(), true);
    }

    /**
     * Opens the spool to append only: for a process that shares {@code spool.dir} with the one process that
     * forwards it (several processes may append; one forwards). Publishing is the same; nothing is sent to
     * Kafka from here, and {@code async_writes = false} is refused. Its status shows the forwarder's
     * checkpoint and backlog as read from the spool.
     */
    public static Forwarder startAppender(ForwarderConfig config) {
        return new Forwarder(config, new MetricRegistry(), false);
    }

    /**
     * As {@link #start(ForwarderConfig)}, registering the metrics in the application's registry (names in
     * README "Metrics"). One forwarder per registry.
     */
    public static Forwarder start(ForwarderConfig config, MetricRegistry registry) {
        return new Forwarder(config, registry, true);
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
    public static RedriveResult redrive(ForwarderConfig config, java.time.Instant since, DataType type) {
        ForwarderConfig.Kafka kafka = config.kafka();
        return dev.forwarder.internal.forward.Redrive.run(
                kafka, since, type, () -> new KafkaProducer<>(ProducerSettings.producer(kafka)));
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
     * The full check of a record's JSON, as HTTP ingest and typed publishing do it: one object of
     * {@code type}'s model, no duplicate keys at any depth, and every column TensorZero's ClickHouse table
     * would refuse (UInt32 bounds, canonical UUIDs, {@code snapshot_hash} below 2^256, {@code cost} within
     * Decimal(18,9), no null in a column that is not Nullable, string-valued {@code tags}). Costs a parse
     * (microseconds per KB): not for the request path.
     *
     * @return empty when the record would load, else why not, naming the field
     */
    public static java.util.Optional<String> validate(DataType type, byte[] json) {
        if (type == null || json == null) {
            return java.util.Optional.of(type == null ? "no data type given" : "no JSON given");
        }
        try {
            VALIDATOR.parse(type, json);
            return java.util.Optional.empty();
        } catch (dev.forwarder.internal.json.InvalidEventException e) {
            return java.util.Optional.of(e.getMessage());
        }
    }

    private static final dev.forwarder.internal.json.EventCodec VALIDATOR =
            new dev.forwarder.internal.json.EventCodec();

    /** As {@link #publish(DataType, byte[])}, for JSON held as a string. */
    public PublishResult publish(DataType type, String json) {
        if (json == null) {
            return publish(type, (byte[]) null);
        }
        return publish(type, json.getBytes(StandardCharsets.UTF_8));
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
        Map<PublishResult.Status, Long> drops = publisher.dropped();
        long offered = publisher.offered();
        long appended = publisher.appended();
        if (!accepting) {
            return new ForwarderStatus(
                    ForwarderStatus.State.DISABLED, offered, appended, drops, 0, 0, 0, 0, 0, Checkpoint.NONE, 0, null);
        }
        long cp = forwarding || spoolClosed ? checkpoint.read() : checkpoint.reread();
        long backlog = spoolClosed ? lastBacklog : spool.countAfter(cp);
        if (!forwarding) {
            return new ForwarderStatus(
                    closed ? ForwarderStatus.State.CLOSED : ForwarderStatus.State.APPENDING,
                    offered,
                    appended,
                    drops,
                    0,
                    0,
                    0,
                    0,
                    backlog,
                    cp,
                    0,
                    null);
        }
        return new ForwarderStatus(
                agent.state(),
                offered,
                appended,
                drops,
                agent.delivered(),
                agent.deadLettered(),
                agent.corrupt(),
                agent.lost(),
                backlog,
                cp,
                agent.inFlight(),
                agent.lastError());
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
    public com.codahale.metrics.Counter counter(String family, java.util.Map<String, String> labels) {
        return metrics.counter(family, labels);
    }

    /** For {@link ForwarderMeterBinder}. */
    ForwarderMetrics metrics() {
        return metrics;
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
            closeOnce();
        } finally {
            closedLatch.countDown();
        }
    }

    private void closeOnce() {
        closed = true;
        publisher.close(); // refuses new records, waits for appends in progress
        if (!accepting) {
            metrics.close();
            return;
        }
        if (runner != null) {
            runner.drainAndClose(config.kafka().spool().drainTimeoutMs());
        }
        publisher.releaseWaiters();
        lastBacklog = spool.countAfter(forwarding ? checkpoint.read() : checkpoint.reread());
        lastOldest = spool.appendTimeAfter(checkpoint.read());
        lastDiskBytes = spool.diskBytes();
        spoolClosed = true;
        metrics.close();
        closeQuietly(space);
        closeQuietly(deadLetterSpace);
        closeQuietly(checkpoint);
        deadLetters.close();
        spool.close();
        closeQuietly(lock);
        LOG.info("{} closed: {}", forwarding ? "forwarder" : "appender", status());
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed", c, e);
        }
    }

    /** What the metric gauges read: the spool, or its last values once it is closed. */
    private final class MetricsSource implements ForwarderMetrics.Source {
        @Override
        public ForwarderStatus.State state() {
            if (!accepting) {
                return ForwarderStatus.State.DISABLED;
            }
            return agent == null
                    ? (closed ? ForwarderStatus.State.CLOSED : ForwarderStatus.State.APPENDING)
                    : agent.state();
        }

        @Override
        public long checkpoint() {
            if (checkpoint == null) {
                return Checkpoint.NONE;
            }
            return forwarding || spoolClosed ? checkpoint.read() : checkpoint.reread();
        }

        @Override
        public long backlogRecords() {
            if (spool == null) {
                return 0;
            }
            return spoolClosed ? lastBacklog : spool.countAfter(checkpoint());
        }

        @Override
        public long meanRecordBytes() {
            return publisher.meanRecordBytes();
        }

        @Override
        public long oldestUnforwardedAppendTimeMs() {
            if (spool == null) {
                return -1;
            }
            return spoolClosed ? lastOldest : spool.appendTimeAfter(checkpoint());
        }

        @Override
        public long diskBytes() {
            if (spool == null) {
                return 0;
            }
            return spoolClosed ? lastDiskBytes : spool.diskBytes();
        }

        @Override
        public long capacityBytes() {
            return config.kafka().spool().maxBytes();
        }
    }
}
