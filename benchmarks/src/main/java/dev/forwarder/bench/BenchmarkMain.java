package dev.forwarder.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.Main;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@code java -jar benchmarks/target/benchmarks.jar [JMH options]}: JMH's own command line, with the
 * Chronicle flags of the parent pom appended to every fork (forks do not inherit the jar manifest's
 * Add-Opens, and listing the flags in each {@code @Fork} would copy them into every benchmark).
 */
public final class BenchmarkMain {

    private BenchmarkMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions commandLine = new CommandLineOptions(args);
        if (commandLine.shouldHelp()
                || commandLine.shouldList()
                || commandLine.shouldListWithParams()
                || commandLine.shouldListProfilers()
                || commandLine.shouldListResultFormats()) {
            Main.main(args);
            return;
        }
        // Appending here replaces the command line's -jvmArgsAppend: keep those, after the Chronicle flags.
        List<String> append = new ArrayList<>(List.of(forkFlags()));
        if (commandLine.getJvmArgsAppend().hasValue()) {
            append.addAll(commandLine.getJvmArgsAppend().get());
        }
        Options options = new OptionsBuilder()
                .parent(commandLine)
                .jvmArgsAppend(append.toArray(new String[0]))
                .build();
        new Runner(options).run();
    }

    static String[] forkFlags() throws IOException {
        try (InputStream in = BenchmarkMain.class.getResourceAsStream("/jvm-flags.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+");
        }
    }
}
