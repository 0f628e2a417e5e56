package dev.forwarder.internal.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.DataType;
import dev.forwarder.InferenceRecord;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.spool.SpoolRecord;
import dev.forwarder.testkit.Golden;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.TopicReader;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** One record of each type, serialised by the model, produced to a real broker and consumed back. */
@KafkaTest
class FirstFlowIT {

    @Test
    void oneRecordOfEachTypeTravelsThroughKafka(KafkaBroker broker) throws Exception {
        EventCodec codec = new EventCodec();
        UUID source = UUID.randomUUID();
        Map<DataType, byte[]> sent = new EnumMap<>(DataType.class);
        Map<DataType, String> keys = new EnumMap<>(DataType.class);

        Map<String, Object> props = broker.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            long index = 0;
            for (DataType type : DataType.values()) {
                InferenceRecord record = codec.parse(type, Golden.json(type));
                byte[] value = codec.serialize(record);
                String key = MessageKeys.keyOf(value);
                assertEquals(MessageKeys.keyOf(record), key, "typed and JSON key agree");
                ProducerRecord<byte[], byte[]> message = KafkaMessages.of(
                        new SpoolRecord.Entry(index, type, 0, key.getBytes(StandardCharsets.UTF_8), value, null),
                        type.topic("tensorzero"),
                        KafkaMessages.sourceIdHeader(source),
                        index++);
                producer.send(message).get(30, TimeUnit.SECONDS);
                sent.put(type, value);
                keys.put(type, key);
            }
        }

        for (DataType type : DataType.values()) {
            List<ConsumerRecord<byte[], byte[]>> received =
                    TopicReader.readAll(broker.clientProperties(), type.topic("tensorzero"), 1);
            assertEquals(1, received.size(), "one message in " + type.topic("tensorzero"));
            ConsumerRecord<byte[], byte[]> message = received.get(0);
            assertEquals("tensorzero_" + type.wireName(), message.topic());
            assertEquals(keys.get(type), new String(message.key(), StandardCharsets.UTF_8));
            assertArrayEquals(sent.get(type), message.value());
            assertEquals(type.wireName(), header(message, KafkaMessages.HEADER_DATA_TYPE));
            assertEquals(source.toString(), header(message, KafkaMessages.HEADER_SOURCE_ID));
            assertEquals(String.valueOf(type.ordinal()), header(message, KafkaMessages.HEADER_SPOOL_INDEX));
            // What came back is a valid record of its type, equal to what went in.
            assertEquals(codec.parse(type, sent.get(type)), codec.parse(type, message.value()));
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
