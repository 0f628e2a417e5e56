package dev.forwarder.testkit;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a class's main method in a child JVM with this JVM's class path and Chronicle flags, as the crash
 * tests need: a real process that can be SIGKILLed. Its output goes to a file.
 */
public final class JavaProcess {

    private JavaProcess() {}

    public static Process start(Class<?> main, Path output, String... args) throws IOException {
        return start((String) null, main, output, args);
    }

    /** As {@link #start(Class, Path, String...)}, under a shell's {@code umask} (e.g. "000"), or none if null. */
    public static Process start(String umask, Class<?> main, Path output, String... args) throws IOException {
        return start(umask, List.of(), main, output, args);
    }

    /** As {@link #start(Class, Path, String...)}, with more JVM options (e.g. {@code -Djavax.net.ssl.trustStore=}). */
    public static Process start(List<String> jvmOptions, Class<?> main, Path output, String... args)
            throws IOException {
        return start(null, jvmOptions, main, output, args);
    }

    private static Process start(String umask, List<String> jvmOptions, Class<?> main, Path output, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        if (umask != null) {
            command.addAll(List.of("sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\""));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.addAll(jvmOptions);
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-Dchronicle.")) {
                command.add(arg);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(main.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .start();
    }
}
