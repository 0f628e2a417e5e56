package dev.forwarder.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forwarder.SpoolInspector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Backlog, checkpoint, oldest unforwarded record and dead letters of a spool, running or stopped.",
            "Drop counts live in the running process: see its GET /status or /metrics."
        })
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--spool", required = true, paramLabel = "DIR", description = "The spool directory.")
    Path spoolDir;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ObjectNode out = new ObjectMapper().createObjectNode();
        try (SpoolInspector spool = SpoolInspector.open(spoolDir, null)) {
            long oldest = spool.oldestUnforwardedAppendTimeMs();
            out.put("spool", spoolDir.toAbsolutePath().toString());
            out.put("source_id", spool.sourceId().toString());
            out.put("checkpoint", spool.checkpoint());
            out.put("backlog_records", spool.backlog());
            out.put(
                    "oldest_unforwarded",
                    oldest < 0 ? null : Instant.ofEpochMilli(oldest).toString());
            out.put(
                    "oldest_unforwarded_age_seconds",
                    oldest < 0
                            ? 0
                            : Duration.between(Instant.ofEpochMilli(oldest), Instant.now())
                                    .toSeconds());
            out.put("spool_bytes", spool.diskBytes());
            out.put("dead_letters", spool.deadLetters());
        }
        out.put("forwarder", forwarder());
        if (json) {
            System.out.println(out.toString());
        } else {
            out.fields()
                    .forEachRemaining(e -> System.out.printf(
                            "%-32s %s%n", e.getKey(), e.getValue().asText()));
        }
        return 0;
    }

    /** Who holds the spool: the pid in forwarder.lock, if that process is alive. */
    private String forwarder() throws IOException {
        Path lock = spoolDir.resolve("forwarder.lock");
        if (!Files.exists(lock)) {
            return "none has run";
        }
        String pid = Files.readString(lock, StandardCharsets.UTF_8).trim();
        boolean alive = !pid.isEmpty()
                && ProcessHandle.of(Long.parseLong(pid))
                        .map(ProcessHandle::isAlive)
                        .orElse(false);
        return alive ? "running, pid " + pid : "not running (last pid " + (pid.isEmpty() ? "?" : pid) + ")";
    }
}
