package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Trees as text against the oracle, the same mapper's {@code writeValueAsString}, on the seeded corpus's trees. */
class JsonTextsTest {

    @Test
    void treesAreWrittenAsWriteValueAsStringWritesThem() throws Exception {
        JsonMapper mapper = JsonMapper.builder().build();
        JsonTexts texts = new JsonTexts(mapper);
        Random random = new Random(Long.getLong("record.seed", 20261130L));
        JsonBytes direct = new JsonBytes(true);
        int written = 0;
        for (int i = 0; i < 5_000; i++) {
            JsonNode tree = RecordWriterTest.tree(random, 0);
            String expected = mapper.writeValueAsString(tree);
            assertEquals(expected, texts.write(tree), "tree " + i);
            try {
                direct.reset();
                direct.tree(tree);
                assertEquals(expected, direct.text(), "tree " + i + ", written directly");
                written++;
            } catch (JsonBytes.NotDirect e) {
                // a NaN, a binary or POJO node, a lone surrogate: the generator's, checked above
            }
        }
        assertTrue(written > 1_000 && written < 4_800, "both ways taken, directly: " + written);
        JsonNode large = mapper.createObjectNode().put("text", "x".repeat(1 << 20));
        assertEquals(mapper.writeValueAsString(large), texts.write(large), "a tree larger than the kept buffer");
        JsonNode small = mapper.createArrayNode().add(1).add("two");
        assertEquals("[1,\"two\"]", texts.write(small), "the next one after it");
    }
}
