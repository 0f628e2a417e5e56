package dev.forwarder;

import dev.forwarder.internal.spool.RollPeriod;
import java.nio.file.Path;

/**
 * A forwarder that spools records with Kafka out of reach, over two roll files: {@code spoolDir}. For the
 * permission tests, run under a chosen umask.
 */
public final class SpoolWriterChild {

    private SpoolWriterChild() {}

    public static void main(String[] args) throws Exception {
        ForwarderConfig config = ForwarderConfig.parse("gateway.observability.kafka { brokers = \"127.0.0.1:1\","
                + " startup { require_connection = false, timeout_ms = 500 }, spool { dir = \"" + Path.of(args[0])
                + "\", drain_timeout_ms = 200 } }");
        try (Forwarder forwarder = Forwarder.start(config, true, RollPeriod.SECONDLY)) {
            for (int i = 0; i < 50; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, "{\"id\":\"a" + i + "\"}");
            }
            Thread.sleep(1100); // the next roll file
            for (int i = 0; i < 50; i++) {
                forwarder.publish(DataType.CHAT_INFERENCE, "{\"id\":\"b" + i + "\"}");
            }
        }
        System.out.println("spooled");
    }
}
