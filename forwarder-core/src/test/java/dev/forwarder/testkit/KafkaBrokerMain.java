package dev.forwarder.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kafka.tools.StorageTool;

/**
 * The entry point of the child JVM that {@link KafkaBroker} starts: formats the data directory on first
 * start (with any SCRAM users), then runs {@code kafka.Kafka}.
 *
 * <p>It ends itself when its parent dies: the parent holds the write end of this process's standard input,
 * and the operating system closes it however the parent ends (SIGKILL included), so end of input here
 * means the test JVM is gone and the broker must not outlive it.
 *
 * <p>Arguments: {@code server.properties cluster-id log-dir [--add-scram SPEC ...]}.
 */
public final class KafkaBrokerMain {

    private KafkaBrokerMain() {}

    public static void main(String[] args) throws Exception {
        exitWhenParentDies();
        Path properties = Path.of(args[0]);
        String clusterId = args[1];
        Path logDir = Path.of(args[2]);
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            List<String> format = new ArrayList<>(
                    List.of("format", "-t", clusterId, "-c", properties.toString(), "--ignore-formatted"));
            format.addAll(Arrays.asList(args).subList(3, args.length));
            int status = StorageTool.execute(format.toArray(String[]::new), System.out);
            if (status != 0) {
                System.err.println("kafka storage format failed with status " + status);
                Runtime.getRuntime().halt(status);
            }
        }
        kafka.Kafka.main(new String[] {properties.toString()});
    }

    private static void exitWhenParentDies() {
        Thread watchdog = new Thread(
                () -> {
                    try (InputStream in = System.in) {
                        while (in.read() >= 0) {
                            // the parent never writes; anything read is ignored
                        }
                    } catch (IOException ignored) {
                        // a broken pipe means the same as end of input
                    }
                    System.err.println("parent process gone: stopping the broker");
                    Runtime.getRuntime().halt(3);
                },
                "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
