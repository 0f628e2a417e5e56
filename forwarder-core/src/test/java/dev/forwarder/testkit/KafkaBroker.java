package dev.forwarder.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real Apache Kafka broker (KRaft, combined broker and controller) running as a child JVM on free
 * loopback ports with a data directory of its own. No Docker, no mocks: the same broker binary users run.
 *
 * <pre>
 *   try (KafkaBroker broker = KafkaBroker.builder().build()) {
 *       broker.start();
 *       ... broker.bootstrapServers() ...
 *       broker.kill();     // SIGKILL, as a crash
 *       broker.start();    // same ports, same data
 *   }
 * </pre>
 *
 * <p>The PLAINTEXT listener is always there (tests use it to check what arrived). In SASL mode a second
 * listener, SASL_PLAINTEXT, accepts the PLAIN user {@link #PLAIN_USER} and the SCRAM users
 * {@link #SCRAM_256_USER} and {@link #SCRAM_512_USER}, all with password {@code <user>-secret}. With TLS
 * there is an SSL listener, and with both a SASL_SSL listener with the same users.
 *
 * <p>Never leaves a process behind: {@link #close()} stops it, a JVM shutdown hook kills any broker still
 * running, and the child ends itself when its parent dies, even by SIGKILL ({@link KafkaBrokerMain}).
 * Misuse: one instance is one broker; it is not thread-safe; start() on a running broker is an error.
 */
public final class KafkaBroker implements KafkaEndpoint, AutoCloseable {

    public static final String PLAIN_USER = "alice";
    public static final String SCRAM_256_USER = "bob";
    public static final String SCRAM_512_USER = "carol";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "kafka-broker-reaper"));
    }

    private final Path dataDir;
    private final boolean ownsDataDir;
    private final boolean sasl;
    private final Map<String, String> extraProperties;
    private final String clusterId = "ForwarderTestCluster0";
    private final int port;
    private final int controllerPort;
    private final int saslPort;
    private final int sslPort;
    private final int saslSslPort;
    private final boolean tls;
    private final int nodeId;
    private final String quorumVoters;
    private Process process;

    private KafkaBroker(Builder builder) {
        try {
            this.ownsDataDir = builder.dataDir == null;
            this.dataDir = ownsDataDir ? Files.createTempDirectory("kafka-broker-") : builder.dataDir;
            Files.createDirectories(dataDir);
            this.port = builder.port > 0 ? builder.port : freePort();
            this.controllerPort = builder.controllerPort > 0 ? builder.controllerPort : freePort();
            this.saslPort = builder.sasl ? freePort() : -1;
            this.sslPort = builder.tls ? freePort() : -1;
            this.saslSslPort = builder.tls && builder.sasl ? freePort() : -1;
            if (builder.tls && !Files.exists(dataDir.resolve("tls/broker.p12"))) {
                TestCertificates.brokerKeystore(dataDir.resolve("tls"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.tls = builder.tls;
        this.sasl = builder.sasl;
        this.extraProperties = Map.copyOf(builder.properties);
        this.nodeId = builder.nodeId;
        this.quorumVoters =
                builder.quorumVoters != null ? builder.quorumVoters : nodeId + "@127.0.0.1:" + controllerPort;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the broker (formatting its storage the first time) and waits until it serves requests. */
    public synchronized void start() {
        launch();
        awaitReady();
    }

    /**
     * Starts the broker's process without waiting for it: the nodes of a cluster must all be started before
     * any can serve (their controllers elect a leader first); then {@link #awaitReady} each.
     */
    public synchronized void launch() {
        if (isRunning()) {
            throw new IllegalStateException("broker already running, pid " + process.pid());
        }
        try {
            Path properties = writeServerProperties();
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xms128m",
                    "-Xmx768m",
                    "-XX:+UseSerialGC",
                    "-Djava.awt.headless=true",
                    "-cp",
                    classPath(),
                    KafkaBrokerMain.class.getName(),
                    properties.toString(),
                    clusterId,
                    logDir().toString()));
            if (sasl) {
                command.addAll(List.of(
                        "--add-scram",
                                "SCRAM-SHA-256=[name=" + SCRAM_256_USER + ",password=" + SCRAM_256_USER + "-secret]",
                        "--add-scram",
                                "SCRAM-SHA-512=[name=" + SCRAM_512_USER + ",password=" + SCRAM_512_USER + "-secret]"));
            }
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
            RUNNING.add(process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Kafka broker", e);
        }
    }

    /** Stops the broker with SIGTERM (a controlled shutdown) and waits for it to exit. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        RUNNING.remove(process);
        process = null;
    }

    /** Kills the broker with SIGKILL, as a crash or a lost machine would, and waits until it is gone. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        try {
            process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RUNNING.remove(process);
        process = null;
    }

    /**
     * Freezes the broker (SIGSTOP): it holds its connections and answers nothing, as a machine that hangs does
     * (clients wait out their time-outs, where after a SIGKILL they fail over at once). {@link #kill} ends it.
     */
    public synchronized void freeze() {
        if (process == null) {
            return;
        }
        try {
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .start();
            String out = new String(stop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (stop.waitFor() != 0) {
                throw new IllegalStateException("kill -STOP " + process.pid() + ": " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops (SIGTERM) and starts again on the same data and ports. */
    public void restart() {
        stop();
        start();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    /** The PLAINTEXT listener, {@code 127.0.0.1:port}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The SASL_PLAINTEXT listener; only in SASL mode. */
    public String saslBootstrapServers() {
        if (!sasl) {
            throw new IllegalStateException("this broker was built without SASL; use builder().sasl(true)");
        }
        return "127.0.0.1:" + saslPort;
    }

    /** The SSL listener; only with builder().tls(true). Its certificate is signed by {@link #caFile()}. */
    public String sslBootstrapServers() {
        if (!tls) {
            throw new IllegalStateException("this broker was built without TLS; use builder().tls(true)");
        }
        return "127.0.0.1:" + sslPort;
    }

    /**
     * The SASL_SSL listener (the same users as {@link #saslBootstrapServers()}, the certificate of
     * {@link #sslBootstrapServers()}); only with builder().sasl(true).tls(true).
     */
    public String saslSslBootstrapServers() {
        if (saslSslPort < 0) {
            throw new IllegalStateException(
                    "this broker was built without SASL_SSL; use builder().sasl(true).tls(true)");
        }
        return "127.0.0.1:" + saslSslPort;
    }

    /** A PKCS12 trust store (password {@link TestCertificates#PASSWORD}) holding {@link #caFile()}. */
    public Path caTrustStore() {
        return dataDir.resolve("tls/ca-trust.p12");
    }

    /** The CA (PEM) that signed the SSL listener's certificate. */
    public Path caFile() {
        return dataDir.resolve("tls/ca.pem");
    }

    /** Client properties for the SASL listener with the given mechanism and credentials. */
    public Map<String, Object> saslClientProperties(String mechanism, String user, String password) {
        String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, saslBootstrapServers());
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, mechanism);
        props.put(
                SaslConfigs.SASL_JAAS_CONFIG,
                module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return props;
    }

    /** Creates topics (idempotent), waiting until they exist. */
    public void createTopics(int partitions, String... topics) {
        try (Admin admin = admin()) {
            for (String topic : topics) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                            .all()
                            .get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic, e.getCause());
                    }
                }
            }
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("cannot create topics", e);
        }
    }

    /** An admin client on the PLAINTEXT listener; close it. */
    public Admin admin() {
        Map<String, Object> props = clientProperties();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(props);
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The broker's own output, for diagnosing a failed start. */
    public Path logFile() {
        return dataDir.resolve("broker.log");
    }

    /** Stops the broker and, unless the data directory was given by the caller, deletes it. */
    @Override
    public void close() {
        kill(); // a test broker's data is thrown away; no need for a controlled shutdown
        if (ownsDataDir) {
            deleteRecursively(dataDir);
        }
    }

    private Path logDir() {
        return dataDir.resolve("logs");
    }

    /** Waits until the broker serves requests (at most 90 s); kills it and says why if it does not. */
    public void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Map<String, Object> props = clientProperties();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Kafka broker exited with status " + process.exitValue()
                            + " during start; its log:\n" + tail(logFile(), 40));
                }
                try {
                    if (!admin.describeCluster()
                            .nodes()
                            .get(2, TimeUnit.SECONDS)
                            .isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    // not up yet
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kill();
        throw new IllegalStateException(
                "Kafka broker not ready within " + START_TIMEOUT.toSeconds() + " s; its log:\n" + tail(logFile(), 40));
    }

    private Path writeServerProperties() throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", quorumVoters);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        String listeners = "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort;
        String advertised = "PLAINTEXT://127.0.0.1:" + port;
        if (sasl) {
            listeners += ",SASL_PLAINTEXT://127.0.0.1:" + saslPort;
            advertised += ",SASL_PLAINTEXT://127.0.0.1:" + saslPort;
            p.put("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
            saslUsers(p, "sasl_plaintext");
        }
        if (tls) {
            listeners += ",SSL://127.0.0.1:" + sslPort;
            advertised += ",SSL://127.0.0.1:" + sslPort;
            p.put(
                    "listener.name.ssl.ssl.keystore.location",
                    dataDir.resolve("tls/broker.p12").toString());
            p.put("listener.name.ssl.ssl.keystore.type", "PKCS12");
            p.put("listener.name.ssl.ssl.keystore.password", TestCertificates.PASSWORD);
            p.put("listener.name.ssl.ssl.key.password", TestCertificates.PASSWORD);
        }
        if (saslSslPort > 0) {
            listeners += ",SASL_SSL://127.0.0.1:" + saslSslPort;
            advertised += ",SASL_SSL://127.0.0.1:" + saslSslPort;
            saslUsers(p, "sasl_ssl");
            p.put(
                    "listener.name.sasl_ssl.ssl.keystore.location",
                    dataDir.resolve("tls/broker.p12").toString());
            p.put("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12");
            p.put("listener.name.sasl_ssl.ssl.keystore.password", TestCertificates.PASSWORD);
            p.put("listener.name.sasl_ssl.ssl.key.password", TestCertificates.PASSWORD);
        }
        p.put("listeners", listeners);
        p.put("advertised.listeners", advertised);
        p.put(
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL");
        p.put("log.dirs", logDir().toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "true");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // A broker restarted after SIGKILL is fenced until its old session expires: keep that short.
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("broker.session.timeout.ms", "3000");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("log.segment.bytes", String.valueOf(64 * 1024 * 1024));
        p.putAll(extraProperties);
        Path file = dataDir.resolve("server.properties");
        String text = p.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue().replace("\\", "\\\\"))
                .collect(Collectors.joining("\n", "", "\n"));
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    /** The PLAIN user and the SCRAM mechanisms on one SASL listener (SCRAM users are made at start). */
    private static void saslUsers(Map<String, String> p, String listener) {
        p.put(
                "listener.name." + listener + ".plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + PLAIN_USER + "=\""
                        + PLAIN_USER + "-secret\";");
        p.put(
                "listener.name." + listener + ".scram-sha-256.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        p.put(
                "listener.name." + listener + ".scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    }

    private static String classPath() {
        // Surefire may hide the real class path behind a manifest-only jar; it publishes it here.
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static int freePort() {
        return Ports.unused();
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp directory left behind is not worth failing a test for
        }
    }

    /** Options of a test broker. */
    public static final class Builder {
        private Path dataDir;
        private boolean sasl;
        private boolean tls;
        private int port;
        private int nodeId = 1;
        private int controllerPort;
        private String quorumVoters;
        private final Map<String, String> properties = new HashMap<>();

        /**
         * A node of a cluster: its id, its controller's port and the quorum's voters
         * ({@code id@host:port,...}), all known before any node starts.
         */
        public Builder node(int nodeId, int controllerPort, String quorumVoters) {
            this.nodeId = nodeId;
            this.controllerPort = controllerPort;
            this.quorumVoters = quorumVoters;
            return this;
        }

        /** Adds the SASL_PLAINTEXT listener with PLAIN and SCRAM users. */
        public Builder sasl(boolean sasl) {
            this.sasl = sasl;
            return this;
        }

        /** Adds an SSL listener with a certificate from a CA made for this broker. */
        public Builder tls(boolean tls) {
            this.tls = tls;
            return this;
        }

        /** Keeps the broker's data in this directory (not deleted on close). */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Listens on this PLAINTEXT port instead of a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Any other broker setting, e.g. {@code message.max.bytes}. */
        public Builder brokerProperty(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public KafkaBroker build() {
            return new KafkaBroker(this);
        }
    }
}
