package dev.forwarder.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderMeterBinder;
import dev.forwarder.PublishResult;
import dev.forwarder.langchain4j.ForwardingChatModelListener;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.Records;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The auto-configuration in real Spring contexts, against a real broker. */
@KafkaTest
class ForwarderAutoConfigurationIT {

    private final ApplicationContextRunner runner =
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ForwarderAutoConfiguration.class));

    private static String[] props(KafkaBroker broker, Path dir, String prefix, String... more) {
        List<String> all = new ArrayList<>(List.of(
                "gateway.observability.kafka.brokers=" + broker.bootstrapServers(),
                "gateway.observability.kafka.topic-prefix=" + prefix,
                "gateway.observability.kafka.spool.dir=" + dir.resolve("spool")));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void recordsPublishedThroughTheBeanArriveAndTheContextsCloseDrainsThem(KafkaBroker broker, @TempDir Path dir) {
        String prefix = "spring" + UUID.randomUUID().toString().substring(0, 8);
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        runner.withPropertyValues(props(broker, dir, prefix)).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(Forwarder.class);
            Forwarder forwarder = context.getBean(Forwarder.class);
            for (int i = 0; i < 500; i++) {
                String id = Records.id(run, i);
                ids.add(id);
                assertTrue(forwarder
                        .publish(Records.typeOf(i), Records.json(Records.typeOf(i), id))
                        .accepted());
            }
        }); // the context closes here: the forwarder drains
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
        assertEquals(List.of(), List.copyOf(delivered.missing(ids)));
        assertEquals(ids.size(), delivered.messages());
    }

    /** Spring's relaxed names, profiles' and the environment's values, over a file, over our defaults. */
    @Test
    void relaxedNamesTheEnvironmentAndAConfigFileAreRead(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("forwarder.conf");
        Files.writeString(
                file,
                "gateway.observability.kafka { topic_prefix = from_file, linger_ms = 7, batch_size = 11 }\n"
                        + "forwarder.schema.unknown_fields = carry\n");
        runner.withPropertyValues(
                        // A YAML list, as application.yml users write it: brokers: [a, b]
                        "gateway.observability.kafka.brokers[0]=" + broker.bootstrapServers(),
                        "gateway.observability.kafka.brokers[1]=" + broker.bootstrapServers(),
                        "gateway.observability.kafka.spool.dir=" + dir.resolve("spool"),
                        "forwarder.config-file=" + file,
                        "gateway.observability.kafka.spool.max_bytes=32MiB", // underscore form
                        "gateway.observability.kafka.spool.drainTimeoutMs=1234", // camel case
                        "gateway.observability.kafka.batch-size=50", // over the file's 11
                        "gateway.observability.kafka.producer[max.in.flight.requests.per.connection]=3")
                .withInitializer(context -> context.getEnvironment()
                        .getPropertySources()
                        .replace(
                                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                                new SystemEnvironmentPropertySource(
                                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                                        Map.of(
                                                "GATEWAY_OBSERVABILITY_KAFKA_COMPRESSION_TYPE", "zstd",
                                                "GATEWAY_OBSERVABILITY_KAFKA_SPOOL_ONFULL", "drop_oldest"))))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ForwarderConfig.Kafka kafka =
                            context.getBean(ForwarderConfig.class).kafka();
                    assertEquals(broker.bootstrapServers() + "," + broker.bootstrapServers(), kafka.brokers());
                    assertEquals("from_file", kafka.topicPrefix());
                    assertEquals(7, kafka.lingerMs());
                    assertEquals(50, kafka.batchSize());
                    assertEquals(32L << 20, kafka.spool().maxBytes());
                    assertEquals(1234, kafka.spool().drainTimeoutMs());
                    assertEquals("zstd", kafka.compressionType());
                    assertEquals(
                            ForwarderConfig.OnFull.DROP_OLDEST, kafka.spool().onFull());
                    assertEquals("3", String.valueOf(kafka.producer().get("max.in.flight.requests.per.connection")));
                    assertEquals(
                            ForwarderConfig.UnknownFields.CARRY,
                            context.getBean(ForwarderConfig.class).unknownFields());
                });
    }

    /** Every bad key named, in the start's failure; the password never. */
    @Test
    void aBadConfigurationFailsTheStartNamingEveryBadKeyAndNoSecret(@TempDir Path dir) {
        runner.withPropertyValues(
                        "gateway.observability.kafka.spool.dir=" + dir.resolve("spool"),
                        "gateway.observability.kafka.batch-size=0",
                        "gateway.observability.kafka.spool.max-bytez=1GiB",
                        "forwarder.htp.port=9000",
                        "gateway.observability.kafka.sasl.mechanism=MD5",
                        "gateway.observability.kafka.sasl.username=alice",
                        "gateway.observability.kafka.sasl.password=hunter2-secret")
                .run(context -> {
                    assertThat(context).hasFailed();
                    Throwable failure = context.getStartupFailure();
                    StringBuilder messages = new StringBuilder();
                    for (Throwable t = failure; t != null; t = t.getCause()) {
                        messages.append(t.getMessage()).append('\n');
                    }
                    String text = messages.toString();
                    assertTrue(text.contains("gateway.observability.kafka.batch_size"), text);
                    assertTrue(text.contains("max_bytez"), text);
                    assertTrue(text.contains("forwarder.htp.port: unknown key"), text);
                    assertTrue(text.contains("gateway.observability.kafka.sasl.mechanism"), text);
                    assertFalse(text.contains("hunter2"), text);
                });
    }

    /** The application's own beans win; the starter can be switched off. */
    @Test
    void theApplicationsOwnBeansWinAndTheStarterCanBeSwitchedOff(KafkaBroker broker, @TempDir Path dir) {
        ForwarderConfig own = ForwarderConfig.parse("gateway.observability.kafka { brokers = \""
                + broker.bootstrapServers() + "\", topic_prefix = own, spool.dir = \"" + dir.resolve("own") + "\" }");
        runner.withBean(ForwarderConfig.class, () -> own)
                .withPropertyValues(props(broker, dir, "ignored"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertEquals(
                            "own",
                            context.getBean(Forwarder.class).config().kafka().topicPrefix());
                });
        runner.withPropertyValues(props(broker, dir, "off", "forwarder.spring.enabled=false"))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Forwarder.class));
    }

    /**
     * Health: UP while the spool accepts records, Kafka away or not; OUT_OF_SERVICE once it is full. Metrics:
     * bound to the application's registry. LangChain4j: its listener, when LangChain4j is there.
     */
    @Test
    void healthTurnsOutOfServiceOnAFullSpoolAndMetricsAndTheListenerAreThere(@TempDir Path dir) {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues(
                        "gateway.observability.kafka.brokers=127.0.0.1:1", // nobody there: records stay spooled
                        "gateway.observability.kafka.startup.require-connection=false",
                        "gateway.observability.kafka.spool.drain-timeout-ms=0",
                        "gateway.observability.kafka.spool.dir=" + dir.resolve("spool"),
                        "gateway.observability.kafka.spool.max-bytes=16MiB",
                        "gateway.observability.kafka.spool.roll-cycle=five_minutely")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ForwarderHealthIndicator health = context.getBean(ForwarderHealthIndicator.class);
                    Health up = health.health(true);
                    assertEquals(Status.UP, up.getStatus(), up.toString());
                    assertTrue(
                            List.of("CONNECTING", "BACKING_OFF")
                                    .contains(String.valueOf(up.getDetails().get("state"))),
                            "Kafka away: " + up);

                    Forwarder forwarder = context.getBean(Forwarder.class);
                    // Publish until the spool is full: the guard measures the files now and then, so the
                    // first refusal can be followed by a few more acceptances; then it stays full (nothing
                    // is forwarded).
                    // The guard's next measurement may find room for a few more records again, so the
                    // assertions read the answer given right after a refusal, not a later one.
                    int[] n = {0};
                    Health[] answer = {null};
                    await().atMost(Duration.ofSeconds(60)).until(() -> {
                        PublishResult result;
                        do { // publish until a refusal, then ask the health
                            result = forwarder.publish(
                                    DataType.CHAT_INFERENCE,
                                    Records.json(DataType.CHAT_INFERENCE, "r" + n[0]++ + "-" + "y".repeat(8_000)));
                        } while (result.accepted());
                        answer[0] = health.health(true);
                        return answer[0].getStatus().equals(Status.OUT_OF_SERVICE);
                    });
                    Health full = answer[0];
                    assertEquals(Status.OUT_OF_SERVICE, full.getStatus(), full.toString());
                    assertEquals(false, full.getDetails().get("acceptsRecords"), full.toString());
                    assertTrue(((Number) full.getDetails().get("backlog")).longValue() > 0, full.toString());

                    assertThat(context).hasSingleBean(ForwarderMeterBinder.class);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    context.getBean(ForwarderMeterBinder.class).bindTo(registry);
                    assertTrue(
                            registry.getMeters().stream()
                                    .anyMatch(m -> m.getId().getName().startsWith("forwarder_spool_")),
                            "the forwarder's meters in the application's registry");

                    assertThat(context).hasSingleBean(ForwardingChatModelListener.class);
                    assertThat(context.getBeansOfType(ChatModelListener.class)).hasSize(1);
                });
        runner.withClassLoader(new FilteredClassLoader(ChatModelListener.class))
                .withPropertyValues(
                        "gateway.observability.kafka.brokers=127.0.0.1:1",
                        "gateway.observability.kafka.startup.require-connection=false",
                        "gateway.observability.kafka.spool.drain-timeout-ms=0",
                        "gateway.observability.kafka.spool.dir=" + dir.resolve("spool2"))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ForwardingChatModelListener.class));
    }
}
