package dev.forwarder.internal.forward;

import dev.forwarder.DataType;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.kafka.KafkaMessages;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.Arrays;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The Kafka message of each record the forwarder reads: its data type's topic, and the headers of the spool's
 * current source id (which a {@link SourceFork} may change) and of the record's index. Forwarder thread only.
 */
final class SpoolMessages {

    private final Spool spool;
    private final String[] topics;
    private UUID source;
    private Header sourceHeader;

    SpoolMessages(Spool spool, ForwarderConfig.Kafka kafka) {
        this.spool = spool;
        this.topics = Arrays.stream(DataType.values()).map(kafka::topic).toArray(String[]::new);
    }

    ProducerRecord<byte[], byte[]> of(SpoolRecord.Entry entry) {
        UUID now = spool.sourceId();
        if (!now.equals(source)) {
            source = now;
            sourceHeader = KafkaMessages.sourceIdHeader(now);
        }
        return KafkaMessages.of(entry, topics[entry.type().ordinal()], sourceHeader, entry.index());
    }
}
