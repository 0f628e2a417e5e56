package dev.forwarder.app;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forwarder.DataType;
import dev.forwarder.SpoolInspector;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "dump",
        mixinStandardHelpOptions = true,
        description = {
            "Print spooled records as NDJSON, one object a line:",
            "{\"spool_index\", \"data_type\", \"append_time\", \"key\", \"record\"} (and \"reason\" for dead letters).",
            "Corrupt records are reported on standard error."
        })
final class DumpCommand implements Callable<Integer> {

    @Option(names = "--spool", required = true, paramLabel = "DIR", description = "The spool directory.")
    Path spoolDir;

    @Option(names = "--type", paramLabel = "T", description = "Only this data type.")
    String type;

    @Option(
            names = "--since",
            paramLabel = "TIME",
            description = "Only records appended at or after TIME (2026-11-26T10:00:00Z, or an age: 15m, 2h).")
    String since;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "-1", description = "At most N records.")
    long limit;

    @Option(names = "--dead-letter", description = "Dump the dead-letter spool instead.")
    boolean deadLetter;

    @Option(
            names = "--key-file",
            paramLabel = "FILE",
            description = "For an encrypted spool: its spool.encryption.key_file.")
    Path keyFile;

    @Override
    public Integer call() throws Exception {
        DataType only = SpoolFiles.type(type);
        long from = since == null ? Long.MIN_VALUE : SpoolFiles.time(since).toEpochMilli();
        OutputStream stdout = System.out;
        JsonGenerator json = new ObjectMapper().getFactory().createGenerator(stdout);
        json.setRootValueSeparator(null);
        AtomicLong written = new AtomicLong();
        SpoolInspector.Visitor dump = new SpoolInspector.Visitor() {
            @Override
            public boolean record(SpoolInspector.Record e) {
                if (limit >= 0 && written.get() >= limit) {
                    return false;
                }
                if ((only != null && e.type() != only) || e.appendTimeMs() < from) {
                    return true;
                }
                try {
                    json.writeStartObject();
                    json.writeNumberField("spool_index", e.spoolIndex());
                    json.writeStringField("data_type", e.type().wireName());
                    json.writeStringField(
                            "append_time",
                            Instant.ofEpochMilli(e.appendTimeMs()).toString());
                    json.writeStringField("key", e.key());
                    if (e.deadLetter() != null) {
                        json.writeStringField("reason", e.deadLetter().reason());
                        if (e.deadLetter().sourceId() != null) {
                            json.writeStringField(
                                    "source_id", e.deadLetter().sourceId().toString());
                            json.writeNumberField(
                                    "original_spool_index", e.deadLetter().spoolIndex());
                        }
                    }
                    json.writeFieldName("record");
                    json.writeRawValue(new String(e.json(), StandardCharsets.UTF_8));
                    json.writeEndObject();
                    json.writeRaw('\n');
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
                written.incrementAndGet();
                return true;
            }

            @Override
            public void unreadable(long index, String reason) {
                System.err.println("spool record " + index + " cannot be read: " + reason);
            }
        };
        try (SpoolInspector spool = SpoolInspector.open(spoolDir, keyFile)) {
            if (deadLetter) {
                spool.scanDeadLetters(dump);
            } else {
                spool.scan(dump);
            }
        }
        json.flush();
        return 0;
    }
}
