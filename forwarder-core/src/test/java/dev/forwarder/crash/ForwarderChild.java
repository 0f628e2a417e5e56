package dev.forwarder.crash;

import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.testkit.TestConfig;
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
        ForwarderConfig config = TestConfig.forBroker(args[0], Path.of(args[1]))
                .prefix(args[2])
                .with("gateway.observability.kafka { startup.timeout_ms = 30000, spool.drain_timeout_ms = 60000 }")
                .with(args.length > 4 ? args[4] : "")
                .build();
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
