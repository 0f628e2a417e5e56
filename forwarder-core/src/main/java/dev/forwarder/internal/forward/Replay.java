package dev.forwarder.internal.forward;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderException;
import dev.forwarder.ReplayResult;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.kafka.ProducerSettings;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import dev.forwarder.internal.spool.SpoolQuery;
import dev.forwarder.internal.spool.SpoolRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends retained spool records to Kafka again, in order, with their original {@code source_id} and
 * {@code spool_index} headers, so that consumers can tell them from new ones. Reads only: the checkpoint is
 * not touched, and it may run while a forwarder runs on the spool. Stops at the first send Kafka refuses.
 */
public final class Replay {

    private static final Logger LOG = LoggerFactory.getLogger(Replay.class);

    private Replay() {}

    /**
     * @param since    records appended at or after this instant
     * @param until    ... and before this one (null: up to the last)
     * @param type     only this data type (null: all)
     * @param progress told the count sent so far, after each record
     * @throws ForwarderException no spool in the directory, or Kafka refused a record (the count sent is said)
     */
    public static ReplayResult run(
            ForwarderConfig.Kafka kafka, Instant since, Instant until, DataType type, LongConsumer progress) {
        Path dir = kafka.spool().dir();
        if (!Files.isDirectory(dir.resolve("queue"))) {
            throw new ForwarderException("no spool in " + dir + " (expected " + dir.resolve("queue") + ")");
        }
        long from = since.toEpochMilli();
        long to = until == null ? Long.MAX_VALUE : until.toEpochMilli();
        AtomicLong sent = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (Spool spool = new Spool(dir).sealWith(keys(kafka));
                Producer<byte[], byte[]> producer = new KafkaProducer<>(ProducerSettings.producer(kafka))) {
            Header source = KafkaMessages.sourceIdHeader(spool.sourceId());
            spool.query().scan(new SpoolQuery.Visitor() {
                @Override
                public boolean record(SpoolRecord.Entry e) {
                    if (e.appendTimeMs() < from || e.appendTimeMs() >= to || (type != null && e.type() != type)) {
                        return true;
                    }
                    producer.send(KafkaMessages.of(e, kafka.topic(e.type()), source, e.index()), (metadata, error) -> {
                        if (error != null) {
                            failure.compareAndSet(null, error);
                        }
                    });
                    progress.accept(sent.incrementAndGet());
                    return failure.get() == null;
                }

                @Override
                public void corrupt(long index, String reason) {
                    corrupt.incrementAndGet();
                    LOG.warn("skipping spool record {}: {}", index, reason);
                }
            });
            producer.flush();
        } catch (IOException e) {
            throw new ForwarderException("cannot read spool " + dir + ": " + e.getMessage(), e);
        }
        if (failure.get() != null) {
            throw new ForwarderException(
                    "replay stopped after " + sent.get() + " records: " + failure.get(), failure.get());
        }
        return new ReplayResult(sent.get(), corrupt.get());
    }

    private static SpoolKeys keys(ForwarderConfig.Kafka kafka) throws IOException {
        return kafka.spool().encryptionKeyFile().isPresent()
                ? SpoolKeys.load(kafka.spool().encryptionKeyFile().get())
                : null;
    }
}
