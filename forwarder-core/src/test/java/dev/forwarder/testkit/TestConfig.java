package dev.forwarder.testkit;

import dev.forwarder.ForwarderConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The one way tests and benchmarks configure a forwarder against a test broker: the brokers, a topic prefix
 * of its own (each test gets its own topics), a spool directory, and timings that suit a test. Anything else
 * is HOCON added with {@link #with}, which wins over these lines.
 *
 * <pre>
 * ForwarderConfig config = TestConfig.forBroker(broker.bootstrapServers(), dir.resolve("spool"))
 *         .with("gateway.observability.kafka.batch_size = 100")
 *         .build();
 * </pre>
 */
public final class TestConfig {

    private final String brokers;
    private final Path spoolDir;
    private String prefix = "t" + UUID.randomUUID().toString().substring(0, 8);
    private final StringBuilder extra = new StringBuilder();

    private TestConfig(String brokers, Path spoolDir) {
        this.brokers = brokers;
        this.spoolDir = spoolDir;
    }

    public static TestConfig forBroker(String brokers, Path spoolDir) {
        return new TestConfig(brokers, spoolDir);
    }

    public static TestConfig forBroker(KafkaBroker broker, Path spoolDir) {
        return forBroker(broker.bootstrapServers(), spoolDir);
    }

    /** The topic prefix (a fresh random one unless set). */
    public TestConfig prefix(String topicPrefix) {
        this.prefix = topicPrefix;
        return this;
    }

    public String prefix() {
        return prefix;
    }

    /** More HOCON, after (so over) the lines of this kit. */
    public TestConfig with(String hocon) {
        extra.append(hocon).append('\n');
        return this;
    }

    /** The configuration as HOCON text. */
    public String hocon() {
        return "gateway.observability.kafka {\n"
                + "  brokers = \"" + brokers + "\"\n"
                + "  topic_prefix = \"" + prefix + "\"\n"
                + "  spool.dir = \"" + spoolDir + "\"\n"
                + "  spool.drain_timeout_ms = 30000\n"
                + "  startup.timeout_ms = 20000\n"
                // Each test creates its topics: a producer can meet KAFKA-14359 on a new partition and retry
                // until delivery.timeout.ms before it is replaced; 15 s instead of the 60 s default keeps that
                // inside the tests' drain time-outs.
                + "  producer { \"delivery.timeout.ms\" = 15000 }\n"
                + "}\n"
                + extra;
    }

    public ForwarderConfig build() {
        return ForwarderConfig.parse(hocon());
    }

    /** Writes the HOCON to {@code file} (for a process started with {@code --config}); returns it. */
    public Path writeTo(Path file) {
        try {
            Files.writeString(file, hocon());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
