package dev.forwarder;

import java.nio.file.Path;

/**
 * A process that only appends to a spool another process forwards: {@code spoolDir writer count}.
 * Record {@code seq} of writer {@code w} has key {@code key-(seq % 10)} (shared by the writers) and carries
 * {@code writer} and {@code seq}, so that order can be checked per key and per writer.
 */
public final class AppenderChild {

    private AppenderChild() {}

    public static void main(String[] args) {
        ForwarderConfig config =
                ForwarderConfig.parse("gateway.observability.kafka.spool.dir = \"" + Path.of(args[0]) + "\"");
        String writer = args[1];
        int count = Integer.parseInt(args[2]);
        int rejected = 0;
        try (Forwarder appender = Forwarder.startAppender(config)) {
            for (int seq = 0; seq < count; seq++) {
                String json = "{\"target_id\":\"key-" + (seq % 10) + "\",\"writer\":\"" + writer + "\",\"seq\":" + seq
                        + ",\"function_name\":\"f\"}";
                if (!appender.publish(DataType.CHAT_INFERENCE, json).accepted()) {
                    rejected++;
                }
            }
        }
        System.out.println("appended " + (count - rejected) + " of " + count);
        System.exit(rejected == 0 ? 0 : 1);
    }
}
