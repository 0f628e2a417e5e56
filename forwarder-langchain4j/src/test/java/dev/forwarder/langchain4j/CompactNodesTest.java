package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.forwarder.internal.json.JsonTexts;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The listener's smaller trees against Jackson's own, as the oracle: the same random operations on an object of
 * each kind (and on their maps: iterators, entries, removal) leave them equal, with equal hashes, in the same field
 * order, written as the same JSON by Jackson and by {@link JsonTexts}.
 */
class CompactNodesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonTexts TEXT = new JsonTexts(JSON);
    private static final String[] NAMES = {"type", "text", "role", "content", "id", "name", "a", "b", "c", "d", "e"};

    @Test
    void randomEditsLeaveTheTreeEqualToJacksonsAndWrittenTheSame() throws Exception {
        Random random = new Random(27);
        for (int round = 0; round < 3_000; round++) {
            ObjectNode compact = CompactNodes.INSTANCE.objectNode();
            ObjectNode jackson = JsonNodeFactory.instance.objectNode();
            int steps = random.nextInt(40);
            for (int step = 0; step < steps; step++) {
                String name = NAMES[random.nextInt(NAMES.length)];
                String value = "v" + random.nextInt(5);
                switch (random.nextInt(9)) {
                    case 0, 1, 2 -> {
                        compact.put(name, value);
                        jackson.put(name, value);
                    }
                    case 3 -> assertEquals(jackson.remove(name), compact.remove(name), name);
                    case 4 -> {
                        compact.putObject(name)
                                .put("inner", value)
                                .putArray("list")
                                .add(value);
                        jackson.putObject(name)
                                .put("inner", value)
                                .putArray("list")
                                .add(value);
                    }
                    case 5 -> {
                        String other = NAMES[random.nextInt(NAMES.length)];
                        compact.retain(other, name);
                        jackson.retain(other, name);
                    }
                    case 6 -> {
                        assertEquals(
                                jackson.putIfAbsent(name, TextNode.valueOf(value)),
                                compact.putIfAbsent(name, TextNode.valueOf(value)),
                                name);
                    }
                    case 7 -> {
                        if (random.nextInt(10) == 0) {
                            compact.removeAll();
                            jackson.removeAll();
                        }
                    }
                    default -> {
                        ObjectNode other = JsonNodeFactory.instance
                                .objectNode()
                                .put(name, value)
                                .put("z", 1);
                        compact.setAll(other);
                        jackson.setAll(other);
                    }
                }
                assertSame(jackson, compact);
            }
        }
    }

    private static void assertSame(ObjectNode jackson, ObjectNode compact) throws Exception {
        assertEquals(jackson, compact);
        assertEquals(compact, jackson);
        assertEquals(jackson.hashCode(), compact.hashCode());
        assertEquals(jackson.size(), compact.size());
        assertEquals(names(jackson), names(compact));
        assertEquals(JSON.writeValueAsString(jackson), JSON.writeValueAsString(compact));
        assertEquals(JSON.writeValueAsString(jackson), TEXT.write(compact));
        assertEquals(jackson.toString(), compact.toString());
        List<String> walked = new ArrayList<>();
        compact.forEachEntry((name, value) -> walked.add(name));
        assertEquals(names(jackson), walked);
    }

    private static List<String> names(ObjectNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void theMapBehavesAsALinkedHashMapThroughItsIteratorsAndEntries() {
        Random random = new Random(5);
        for (int round = 0; round < 3_000; round++) {
            Map<String, JsonNode> fields = new CompactNodes.Fields();
            Map<String, JsonNode> oracle = new LinkedHashMap<>();
            for (int step = random.nextInt(30); step > 0; step--) {
                String name = random.nextInt(12) == 0 ? null : NAMES[random.nextInt(NAMES.length)]; // null too
                JsonNode value = TextNode.valueOf("v" + random.nextInt(4));
                switch (random.nextInt(7)) {
                    case 0, 1 -> assertEquals(oracle.put(name, value), fields.put(name, value));
                    case 2 -> assertEquals(oracle.remove(name), fields.remove(name));
                    case 3 -> { // remove through the iterator every entry whose value is drawn
                        removeValued(oracle.entrySet().iterator(), value);
                        removeValued(fields.entrySet().iterator(), value);
                    }
                    case 4 -> { // replace through the entries
                        oracle.entrySet().forEach(e -> e.setValue(value));
                        fields.entrySet().forEach(e -> e.setValue(value));
                    }
                    case 5 -> {
                        oracle.keySet().remove(name);
                        fields.keySet().remove(name);
                    }
                    default -> {
                        assertEquals(oracle.containsKey(name), fields.containsKey(name));
                        assertEquals(oracle.get(name), fields.get(name));
                    }
                }
                assertEquals(oracle, fields);
                assertEquals(fields, oracle);
                assertEquals(oracle.hashCode(), fields.hashCode());
                assertEquals(new ArrayList<>(oracle.entrySet()), new ArrayList<>(fields.entrySet()));
                assertEquals(oracle.toString(), fields.toString());
            }
        }
    }

    private static void removeValued(Iterator<Map.Entry<String, JsonNode>> entries, JsonNode value) {
        while (entries.hasNext()) {
            if (entries.next().getValue().equals(value)) {
                entries.remove();
            }
        }
    }

    @Test
    void aChangeDuringAWalkIsReportedAsForLinkedHashMap() {
        ObjectNode compact = CompactNodes.INSTANCE.objectNode().put("a", 1).put("b", 2);
        assertThrows(ConcurrentModificationException.class, () -> {
            for (Iterator<String> names = compact.fieldNames(); names.hasNext(); ) {
                compact.put(names.next() + "x", 0);
            }
        });
        Iterator<Map.Entry<String, JsonNode>> entries = compact.properties().iterator();
        assertThrows(IllegalStateException.class, entries::remove);
    }

    @Test
    void nodesMadeFromACompactNodeAreCompactToo() throws Exception {
        ObjectNode root = CompactNodes.INSTANCE.objectNode();
        ArrayNode list = root.putArray("list");
        ObjectNode inList = list.addObject();
        ObjectNode inObject = root.putObject("object");
        Field children = ObjectNode.class.getDeclaredField("_children");
        children.setAccessible(true);
        for (ObjectNode made : List.of(root, inList, inObject, root.objectNode(), list.objectNode())) {
            assertEquals(CompactNodes.Fields.class, children.get(made).getClass());
        }
        inList.put("k", "v");
        inObject.put("k", "v");
        assertEquals("{\"list\":[{\"k\":\"v\"}],\"object\":{\"k\":\"v\"}}", root.toString());
    }
}
