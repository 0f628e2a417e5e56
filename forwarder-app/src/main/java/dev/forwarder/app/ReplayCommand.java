package dev.forwarder.app;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.ForwarderException;
import dev.forwarder.ReplayResult;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Send retained spool records to Kafka again, in order, with their original source_id and"
                    + " spool_index headers (so consumers can tell them from new ones). The forwarder's checkpoint"
                    + " is not touched. Shows progress on a terminal."
        })
final class ReplayCommand implements Callable<Integer> {

    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "The forwarder's configuration (brokers, spool.dir, security).")
    Path config;

    @Option(
            names = "--since",
            required = true,
            paramLabel = "TIME",
            description = "Records appended at or after TIME (2026-11-26T10:00:00Z, or an age: 15m, 2h).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "... and before TIME.")
    String until;

    @Option(names = "--type", paramLabel = "T", description = "Only this data type.")
    String type;

    @Override
    public Integer call() throws Exception {
        ForwarderConfig settings;
        try {
            settings = ForwarderConfig.from(ConfigFiles.tree(config));
        } catch (ForwarderConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        DataType only = SpoolFiles.type(type);
        Instant from = SpoolFiles.time(since);
        Instant to = until == null ? null : SpoolFiles.time(until);
        Progress progress = new Progress("replayed");
        ReplayResult result;
        try {
            result = Forwarder.replay(settings, from, to, only, progress::update);
        } catch (ForwarderException e) {
            System.err.println(e.getMessage());
            return 1;
        }
        progress.done(result.sent());
        if (result.corrupt() > 0) {
            System.err.println("skipped " + result.corrupt() + " corrupt records (logged with their index)");
        }
        System.out.println(
                "replayed " + result.sent() + " records to " + settings.kafka().brokers());
        return 0;
    }
}
