package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.internal.json.ClickHouseSchema;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.testkit.ClickHouse;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The records the LangChain4j listener makes, held to a real ClickHouse (26.7, chdb) with TensorZero's tables
 * and the gateway's insert settings: they pass the forwarder's full check and TensorZero's insert takes them.
 */
class ListenerRecordsClickHouseIT {

    @Test
    void theListenersRecordsInsertIntoTensorZerosTables(@TempDir Path dir) throws Exception {
        ChatRequest withTools = TensorZeroRecordsTest.toolRequest();
        ChatResponse toolAnswer = TensorZeroRecordsTest.toolResponse();
        ChatRequest plain =
                ChatRequest.builder().messages(UserMessage.from("Hi")).build();
        ChatResponse hello = ChatResponse.builder()
                .aiMessage(AiMessage.from("Hello."))
                .modelName("m-1")
                .build();

        List<InferenceRecord> records = new ArrayList<>();
        records.addAll(TensorZeroRecords.of(
                withTools,
                toolAnswer,
                ModelProvider.OPEN_AI,
                new CallAttributes("weather_bot", "gpt-4o-mini", uuid7(), Map.of("user", "u1"), 250L, 40L),
                ListenerRecordsClickHouseIT::uuid7));
        records.addAll(TensorZeroRecords.of(
                plain,
                hello,
                null,
                new CallAttributes("f", "v", uuid7(), null, null, null),
                ListenerRecordsClickHouseIT::uuid7));

        EventCodec codec = new EventCodec();
        try (ClickHouse clickHouse = ClickHouse.start(dir.resolve("clickhouse"))) {
            clickHouse.createTensorZeroTables();
            for (InferenceRecord record : records) {
                byte[] json = codec.serialize(record);
                assertEquals(Optional.empty(), Forwarder.validate(record.dataType(), json), record.toString());
                assertEquals(
                        Optional.empty(),
                        clickHouse.insertAsGateway(ClickHouseSchema.TABLES.get(record.dataType()), List.of(json)),
                        "TensorZero's insert refused the listener's " + record.dataType());
            }
            assertEquals(2, clickHouse.number("SELECT count() FROM ModelInference"));
            assertEquals(2, clickHouse.number("SELECT count() FROM ChatInference"));
        }
    }

    /** A UUIDv7 of now, as the listener makes them. */
    private static UUID uuid7() {
        long millis = System.currentTimeMillis();
        long random = UUID.randomUUID().getLeastSignificantBits();
        long high = (millis << 16) | 0x7000L | (random >>> 52 & 0x0FFFL);
        long low = (random & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low);
    }
}
