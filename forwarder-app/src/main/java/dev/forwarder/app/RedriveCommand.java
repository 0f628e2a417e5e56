package dev.forwarder.app;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.ForwarderException;
import dev.forwarder.RedriveResult;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "redrive",
        mixinStandardHelpOptions = true,
        description = {
            "Send dead-lettered records to Kafka again, in order, with their original source_id and"
                    + " spool_index headers, and remove those Kafka acknowledged from the dead-letter spool (a record"
                    + " refused again stays). Run it after fixing the cause (e.g. a raised max.message.bytes), with"
                    + " the forwarder of that spool stopped."
        })
final class RedriveCommand implements Callable<Integer> {

    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "The forwarder's configuration (brokers, spool.dir, security).")
    Path config;

    @Option(
            names = "--since",
            paramLabel = "TIME",
            description = "Only records first appended at or after TIME (2026-11-26T10:00:00Z, or an age: 15m, 2h).")
    String since;

    @Option(names = "--type", paramLabel = "T", description = "Only this data type.")
    String type;

    @Override
    public Integer call() {
        ForwarderConfig settings;
        DataType only;
        Instant from;
        try {
            settings = ForwarderConfig.from(ConfigFiles.tree(config));
            only = SpoolFiles.type(type);
            from = since == null ? null : SpoolFiles.time(since);
        } catch (ForwarderConfigException | IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        RedriveResult result;
        try {
            result = Forwarder.redrive(settings, from, only);
        } catch (ForwarderException e) {
            System.err.println(e.getMessage());
            return 1;
        }
        System.out.println("redrive: " + result.selected() + " dead letters sent again, " + result.delivered()
                + " delivered and removed, " + result.refused() + " refused again; " + result.remaining()
                + " left in the dead-letter spool");
        return result.refused() > 0 ? 1 : 0;
    }
}
