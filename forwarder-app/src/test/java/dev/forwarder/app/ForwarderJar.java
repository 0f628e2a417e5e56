package dev.forwarder.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The packaged jar ({@code target/forwarder.jar}, built by {@code package} before Failsafe runs the *IT
 * tests) started as a user starts it: {@code java [jvm options] -jar forwarder.jar command...}, with this
 * test JVM's {@code java}.
 */
final class ForwarderJar {

    static final Path JAR = Path.of("target/forwarder.jar");
    /** What {@code run} prints once it serves. */
    static final String STARTED = "Ctrl-C or SIGTERM to stop.";

    private ForwarderJar() {}

    /** A process builder for {@code java [jvm] -jar forwarder.jar args...}. */
    static ProcessBuilder command(List<String> jvm, String... args) {
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvm);
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    static ProcessBuilder command(String... args) {
        return command(List.of(), args);
    }

    /** {@code run --config config extra...}, its output appended to {@code log}, returned once it serves. */
    static Process run(Path config, Path log, List<String> jvm, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "--config", config.toString()));
        args.addAll(List.of(extra));
        Process process = command(jvm, args.toArray(String[]::new))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        try {
            awaitLog(process, log, STARTED, Duration.ofSeconds(90));
        } catch (AssertionError | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
        return process;
    }

    /** Waits until {@code log} holds {@code line}; fails at once, with the log, if the process exits first. */
    static void awaitLog(Process process, Path log, String line, Duration timeout) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
                assertTrue(process.isAlive(), () -> "exited during start:\n" + read(log));
                return Files.exists(log) && read(log).contains(line);
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    "\"" + line + "\" not in the log within " + timeout.toSeconds() + " s:\n" + read(log));
        }
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
