package dev.forwarder;

import java.nio.file.Path;

/**
 * A forwarder in a process of its own, for the crash tests: {@code brokers spoolDir topicPrefix mode
 * [extra configuration]}.
 * Mode {@code run} forwards until killed; mode {@code drain} forwards until the backlog is empty, closes
 * and exits 0, printing its final status.
 */
public final class ForwarderChild {

    private ForwarderChild() {}

    public static void main(String[] args) throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka {\n"
                + "  brokers = \"" + args[0] + "\"\n"
                + "  spool.dir = \"" + Path.of(args[1]) + "\"\n"
                + "  topic_prefix = \"" + args[2] + "\"\n"
                + "  startup.timeout_ms = 30000\n"
                + "  spool.drain_timeout_ms = 60000\n"
                + "  producer { \"delivery.timeout.ms\" = 15000 }\n" // as ForwarderIT.config: KAFKA-14359 on new topics
                + "}\n" + (args.length > 4 ? args[4] : ""));
        try (Forwarder forwarder = Forwarder.start(config)) {
            System.out.println("started pid " + ProcessHandle.current().pid());
            while (true) {
                Thread.sleep(100);
                if (args[3].equals("drain") && forwarder.status().backlog() == 0) {
                    break;
                }
            }
            forwarder.close();
            System.out.println("final " + forwarder.status());
        }
        System.exit(0);
    }
}
