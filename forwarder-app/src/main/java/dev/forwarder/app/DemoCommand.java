package dev.forwarder.app;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderStatus;
import dev.forwarder.PublishResult;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "A self-contained show: an embedded Kafka, synthetic inference traffic of all three types,"
                    + " a broker outage in the middle, recovery, and a final account read back from Kafka with a consumer"
                    + " (offered, delivered, dropped, duplicates, lost, time to drain).",
            "Exit status 0 when every accepted record arrived."
        })
final class DemoCommand implements Callable<Integer> {

    @Option(
            names = "--records",
            defaultValue = "20000",
            description = "Records to publish (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--rate", defaultValue = "2000", description = "Records per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(
            names = "--outage",
            defaultValue = "4",
            description = "Seconds the broker is down (default: ${DEFAULT-VALUE}).")
    int outageSeconds;

    @Option(names = "--short", description = "A quick run: 3000 records at 1500/s, a 2 s outage.")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        if (quick) {
            records = 3000;
            rate = 1500;
            outageSeconds = 2;
        }
        Path work = Files.createTempDirectory("forwarder-demo-");
        int[] ports = freePorts(2);
        int port = ports[0];
        int controller = ports[1];
        say("Starting an embedded Kafka on 127.0.0.1:" + port + " (data in " + work.resolve("kafka") + ")");
        EmbeddedKafka kafka = new EmbeddedKafka(work.resolve("kafka"), port, controller);
        kafka.start();
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka {\n"
                + "  brokers = \"127.0.0.1:" + port + "\"\n"
                + "  topic_prefix = \"demo\"\n"
                + "  spool.dir = \"" + work.resolve("spool") + "\"\n"
                + "  spool.drain_timeout_ms = 120000\n"
                + "}");
        UUID run = UUID.randomUUID();
        Set<String> accepted = new HashSet<>();
        long dropped = 0;
        long drainStart;
        ForwarderStatus end;
        try (Forwarder forwarder = Forwarder.start(config)) {
            say("Publishing " + records + " records (model, chat and JSON inferences) at " + rate + "/s;"
                    + " the broker goes down a third of the way in, for " + outageSeconds + " s.");
            long start = System.nanoTime();
            long lastReport = start;
            int outageAt = records / 3;
            long outageEnds = Long.MAX_VALUE;
            for (int i = 0; i < records; i++) {
                long due = start + (long) i * 1_000_000_000L / rate;
                while (System.nanoTime() < due) {
                    Thread.sleep(0, 200_000);
                }
                if (i == outageAt) {
                    say("Broker DOWN (controlled shutdown); publishing goes on into the spool.");
                    kafka.close();
                    outageEnds = System.nanoTime() + outageSeconds * 1_000_000_000L;
                }
                if (System.nanoTime() >= outageEnds) {
                    kafka.start();
                    say("Broker UP again; the forwarder resends from its checkpoint.");
                    outageEnds = Long.MAX_VALUE;
                }
                String id = new UUID(run.getMostSignificantBits(), i).toString();
                DataType type = DataType.values()[i % 3];
                PublishResult r = forwarder.publish(type, record(type, id));
                if (r.accepted()) {
                    accepted.add(id);
                } else {
                    dropped++;
                }
                if (System.nanoTime() - lastReport > 1_000_000_000L) {
                    report(forwarder.status());
                    lastReport = System.nanoTime();
                }
            }
            if (outageEnds != Long.MAX_VALUE) {
                Thread.sleep(Math.max(0, (outageEnds - System.nanoTime()) / 1_000_000));
                kafka.start();
                say("Broker UP again; the forwarder resends from its checkpoint.");
            }
            drainStart = System.nanoTime();
            while (forwarder.status().backlog() > 0 && System.nanoTime() - drainStart < 120_000_000_000L) {
                Thread.sleep(500);
                report(forwarder.status());
            }
            forwarder.close();
            end = forwarder.status();
        }
        double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
        say("Reading the topics back with a Kafka consumer...");
        Map<String, Integer> arrived = readBack(kafka.bootstrapServers(), accepted.size());
        kafka.close();
        long messages = arrived.values().stream().mapToLong(Integer::longValue).sum();
        long lost = accepted.stream().filter(id -> !arrived.containsKey(id)).count();
        System.out.println();
        System.out.println("Account");
        System.out.printf("  offered      %,d%n", end.offered());
        System.out.printf("  accepted     %,d (into the spool)%n", accepted.size());
        System.out.printf("  dropped      %,d%n", dropped);
        System.out.printf(
                "  delivered    %,d distinct records read back from Kafka (%,d messages)%n", arrived.size(), messages);
        System.out.printf("  duplicates   %,d%n", messages - arrived.size());
        System.out.printf("  lost         %,d%n", lost);
        System.out.printf("  drain time   %.1f s after the traffic stopped%n", drainSeconds);
        System.out.println(lost == 0 ? "Every accepted record arrived." : "RECORDS WERE LOST.");
        return lost == 0 ? 0 : 1;
    }

    private static Map<String, Integer> readBack(String brokers, int expected) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("demo_model_inference", "demo_chat_inference", "demo_json_inference"));
            long deadline = System.nanoTime() + 60_000_000_000L;
            long quietSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                int n = 0;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    counts.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
                    n++;
                }
                if (n > 0) {
                    quietSince = System.nanoTime();
                } else if (counts.size() >= expected && System.nanoTime() - quietSince > 2_000_000_000L) {
                    break; // everything there, and nothing more for 2 s: duplicates would have shown by now
                }
            }
        }
        return counts;
    }

    private static void report(ForwarderStatus s) {
        say(String.format(
                "  appended %,d  delivered %,d  backlog %,d  in flight %,d  state %s",
                s.appended(), s.delivered(), s.backlog(), s.inFlight(), s.state()));
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static byte[] record(DataType type, String id) {
        String body = switch (type) {
            case MODEL_INFERENCE ->
                "\"inference_id\":\"" + id + "\",\"raw_request\":\"{\\\"model\\\":\\\"gpt-4o-mini\\\"}\","
                        + "\"raw_response\":\"{\\\"choices\\\":[]}\",\"input_messages\":\"[]\",\"output\":\"[]\","
                        + "\"model_name\":\"gpt-4o-mini\",\"model_provider_name\":\"openai\",\"input_tokens\":120,"
                        + "\"output_tokens\":48,\"response_time_ms\":640,\"ttft_ms\":210,\"cached\":false,"
                        + "\"finish_reason\":\"stop\"";
            case CHAT_INFERENCE ->
                "\"function_name\":\"support_chat\",\"variant_name\":\"baseline\",\"episode_id\":\""
                        + id
                        + "\",\"input\":{\"system\":\"You are helpful.\",\"messages\":[{\"role\":\"user\",\"content\":"
                        + "[{\"type\":\"text\",\"text\":\"Where is my order?\"}]}]},\"output\":[{\"type\":\"text\",\"text\":"
                        + "\"It ships tomorrow.\"}],\"processing_time_ms\":702,\"ttft_ms\":230,\"tags\":{\"tenant\":\"acme\"}";
            case JSON_INFERENCE ->
                "\"function_name\":\"extract_order\",\"variant_name\":\"strict\",\"episode_id\":\"" + id
                        + "\",\"input\":{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                        + "\"Order 1234, two lamps\"}]}]},\"output\":{\"raw\":\"{\\\"order\\\":1234}\",\"parsed\":"
                        + "{\"order\":1234}},\"processing_time_ms\":515,\"tags\":{}";
        };
        return ("{\"id\":\"" + id + "\"," + body + "}").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * {@code n} free ports, all different: each socket is held until all are drawn, since the kernel may hand
     * a port just freed out again, and an embedded Kafka given one port for its listener and its controller
     * does not start.
     */
    static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }
}
