package dev.forwarder.testkit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixture itself: a real broker that restarts on its data, speaks SASL, and never outlives its parent. */
class KafkaBrokerIT {

    @Test
    void keepsDataAcrossKillAndRestart(@TempDir Path data) throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().dataDir(data).build()) {
            broker.start();
            send(broker.clientProperties(), "survivors", "before-kill");
            long firstPid = broker.pid();
            broker.kill();
            assertFalse(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false), "SIGKILL ended it");
            broker.start();
            send(broker.clientProperties(), "survivors", "after-restart");
            broker.restart(); // SIGTERM, then start again
            List<String> values = TopicReader.readAll(broker.clientProperties(), "survivors", 2).stream()
                    .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .toList();
            assertEquals(List.of("before-kill", "after-restart"), values);
        }
    }

    @Test
    void saslModeAcceptsPlainAndScramUsersAndRefusesBadPasswords() throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().sasl(true).build()) {
            broker.start();
            send(broker.saslClientProperties("PLAIN", KafkaBroker.PLAIN_USER, "alice-secret"), "sasl", "plain");
            send(
                    broker.saslClientProperties("SCRAM-SHA-256", KafkaBroker.SCRAM_256_USER, "bob-secret"),
                    "sasl",
                    "s256");
            send(
                    broker.saslClientProperties("SCRAM-SHA-512", KafkaBroker.SCRAM_512_USER, "carol-secret"),
                    "sasl",
                    "s512");
            assertEquals(
                    3, TopicReader.readAll(broker.clientProperties(), "sasl", 3).size());

            ExecutionException wrong = assertThrows(
                    ExecutionException.class,
                    () -> send(
                            broker.saslClientProperties("SCRAM-SHA-256", KafkaBroker.SCRAM_256_USER, "nope"),
                            "sasl",
                            "x"));
            assertTrue(wrong.getCause() instanceof SaslAuthenticationException, String.valueOf(wrong.getCause()));
        }
    }

    @Test
    void brokerDiesWithItsParentEvenOnSigkill(@TempDir Path data) throws Exception {
        Process host = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                        BrokerHost.class.getName(),
                        data.toString())
                .redirectErrorStream(true)
                .start();
        long brokerPid;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("broker-pid="));
            assertTrue(line != null, "the host printed its broker's pid");
            brokerPid = Long.parseLong(line.substring("broker-pid=".length()));
            Optional<ProcessHandle> broker = ProcessHandle.of(brokerPid);
            assertTrue(broker.isPresent() && broker.get().isAlive());

            host.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs in the host
            await().atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertFalse(
                            broker.get().isAlive(), "broker pid " + brokerPid + " outlived its killed parent"));
        }
    }

    /** A JVM that starts a broker, prints its pid, and waits to be killed. */
    public static final class BrokerHost {
        public static void main(String[] args) throws Exception {
            KafkaBroker broker = KafkaBroker.builder().dataDir(Path.of(args[0])).build();
            broker.start();
            System.out.println("broker-pid=" + broker.pid());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    private static void send(Map<String, Object> props, String topic, String value) throws Exception {
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, value)).get(30, TimeUnit.SECONDS);
        }
    }
}
