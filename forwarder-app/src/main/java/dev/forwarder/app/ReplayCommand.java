package dev.forwarder.app;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.header.Header;
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
        long from = SpoolFiles.time(since).toEpochMilli();
        long to = until == null ? Long.MAX_VALUE : SpoolFiles.time(until).toEpochMilli();
        ForwarderConfig.Kafka kafka = settings.kafka();
        Path dir = kafka.spool().dir();
        Header source;
        Path keyFile = kafka.spool().encryptionKeyFile().orElse(null);
        try (Spool spool = SpoolFiles.open(dir, keyFile)) {
            source = KafkaMessages.sourceIdHeader(spool.sourceId());
        }
        AtomicLong sent = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Progress progress = new Progress("replayed");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ProducerSettings.producer(kafka))) {
            SpoolFiles.scan(dir, keyFile, new SpoolFiles.Visitor() {
                @Override
                public boolean record(SpoolRecord.Entry e) {
                    if (e.appendTimeMs() < from || e.appendTimeMs() >= to || (only != null && e.type() != only)) {
                        return true;
                    }
                    producer.send(
                            KafkaMessages.toProducerRecord(
                                    kafka.topic(e.type()), e.type(), e.keyBytes(), e.payload(), source, e.index()),
                            (metadata, error) -> {
                                if (error != null) {
                                    failure.compareAndSet(null, error);
                                }
                            });
                    progress.update(sent.incrementAndGet());
                    return failure.get() == null;
                }

                @Override
                public void corrupt(long index, String reason) {
                    System.err.println("skipping spool record " + index + ": " + reason);
                }
            });
            producer.flush();
        }
        progress.done(sent.get());
        if (failure.get() != null) {
            System.err.println("replay stopped: " + failure.get());
            return 1;
        }
        System.out.println("replayed " + sent.get() + " records to " + kafka.brokers());
        return 0;
    }
}
