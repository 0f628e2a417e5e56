package dev.forwarder.internal.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.forwarder.DataType;
import dev.forwarder.InferenceRecord;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.internal.json.MessageKeys;
import dev.forwarder.internal.spool.SpoolRecord;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every step of the key fallback, for JSON handed in as bytes and for typed records. */
class KafkaMessagesTest {

    private static final String ID = "0192f3a1-7c2e-7d41-9b6a-3f0d2e5c8a11";
    private static final String INFERENCE = "0192f3a1-7b90-7c3a-8e21-5d4c3b2a1f00";
    private static final String EPISODE = "0192f3a1-6a00-7000-8000-0123456789ab";
    private static final String TARGET = "0192f3a1-0000-7000-8000-00000000cafe";

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            nullValues = "NULL",
            value = {
                "id first                     | {\"id\":\"" + ID + "\",\"inference_id\":\"" + INFERENCE
                        + "\"}                | " + ID,
                "id wins even when last       | {\"episode_id\":\"" + EPISODE + "\",\"id\":\"" + ID
                        + "\"}                    | " + ID,
                "inference_id without id      | {\"inference_id\":\"" + INFERENCE + "\",\"episode_id\":\"" + EPISODE
                        + "\"}   | " + INFERENCE,
                "empty id falls back          | {\"id\":\"\",\"inference_id\":\"" + INFERENCE
                        + "\"}                          | " + INFERENCE,
                "null id falls back           | {\"id\":null,\"episode_id\":\"" + EPISODE
                        + "\"}                              | " + EPISODE,
                "episode_id before target_id  | {\"target_id\":\"" + TARGET + "\",\"episode_id\":\"" + EPISODE
                        + "\"}         | " + EPISODE,
                "target_id last               | {\"target_id\":\"" + TARGET
                        + "\",\"other\":1}                               | " + TARGET,
                "nested id does not count     | {\"input\":{\"id\":\"" + ID + "\"},\"target_id\":\"" + TARGET
                        + "\"}          | " + TARGET,
                "none: no key                 | {\"function_name\":\"f\"}                                                     | NULL",
                "all empty: no key, never ''  | {\"id\":\"\",\"inference_id\":\"\",\"episode_id\":\"\",\"target_id\":\"\"}    | NULL",
                "not an object: no key        | [\"" + ID
                        + "\"]                                                              | NULL",
            })
    void keyFallbackOnJson(String name, String json, String expected) {
        assertEquals(expected, MessageKeys.keyOf(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void keyFallbackOnTypedRecords() throws Exception {
        EventCodec codec = new EventCodec();
        assertEquals(
                ID,
                MessageKeys.keyOf(parse(
                        codec,
                        DataType.MODEL_INFERENCE,
                        "{\"id\":\"" + ID + "\",\"inference_id\":\"" + INFERENCE + "\"}")));
        assertEquals(
                INFERENCE,
                MessageKeys.keyOf(parse(codec, DataType.MODEL_INFERENCE, "{\"inference_id\":\"" + INFERENCE + "\"}")));
        assertEquals(
                EPISODE,
                MessageKeys.keyOf(parse(codec, DataType.CHAT_INFERENCE, "{\"episode_id\":\"" + EPISODE + "\"}")));
        assertEquals(
                INFERENCE,
                MessageKeys.keyOf(parse(
                        codec,
                        DataType.CHAT_INFERENCE,
                        "{\"inference_id\":\"" + INFERENCE + "\",\"episode_id\":\"" + EPISODE + "\"}")),
                "an unknown inference_id field still takes its place in the order");
        assertEquals(
                TARGET, MessageKeys.keyOf(parse(codec, DataType.JSON_INFERENCE, "{\"target_id\":\"" + TARGET + "\"}")));
        assertNull(MessageKeys.keyOf(parse(codec, DataType.JSON_INFERENCE, "{\"target_id\":\"\"}")));
    }

    /** The spool_index header is the index in decimal, as Long.toString writes it. */
    @ParameterizedTest
    @CsvSource({
        "0",
        "9",
        "10",
        "99",
        "100",
        "4294967296",
        "2142750594088177",
        "9223372036854775807",
        "-1",
        "-9223372036854775808"
    })
    void spoolIndexHeaderIsTheIndexInDecimal(long index) {
        assertEquals(Long.toString(index), new String(KafkaMessages.decimal(index), StandardCharsets.US_ASCII));
    }

    @Test
    void producerRecordCarriesTopicKeyHeadersAndValueUnchanged() {
        byte[] value = ("{\"id\":\"" + ID + "\"}").getBytes(StandardCharsets.UTF_8);
        UUID source = UUID.randomUUID();
        ProducerRecord<byte[], byte[]> record = KafkaMessages.of(
                new SpoolRecord.Entry(
                        42L, DataType.JSON_INFERENCE, 0, ID.getBytes(StandardCharsets.UTF_8), value, null),
                "tensorzero_json_inference",
                KafkaMessages.sourceIdHeader(source),
                42L);
        assertEquals("tensorzero_json_inference", record.topic());
        assertArrayEquals(ID.getBytes(StandardCharsets.UTF_8), record.key());
        assertArrayEquals(value, record.value());
        assertEquals("json_inference", header(record, KafkaMessages.HEADER_DATA_TYPE));
        assertEquals(source.toString(), header(record, KafkaMessages.HEADER_SOURCE_ID));
        assertEquals("42", header(record, KafkaMessages.HEADER_SPOOL_INDEX));
        assertNull(KafkaMessages.of(
                        new SpoolRecord.Entry(0, DataType.CHAT_INFERENCE, 0, null, value, null),
                        "p_chat_inference",
                        KafkaMessages.sourceIdHeader(source),
                        0)
                .key());
    }

    /** The typed record alone (the key's fallback order), without the schema's check that ids are present. */
    private static InferenceRecord parse(EventCodec codec, DataType type, String json) throws Exception {
        Class<? extends InferenceRecord> model = switch (type) {
            case MODEL_INFERENCE -> dev.forwarder.ModelInference.class;
            case CHAT_INFERENCE -> dev.forwarder.ChatInference.class;
            case JSON_INFERENCE -> dev.forwarder.JsonInference.class;
        };
        return codec.mapper().readValue(json, model);
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
