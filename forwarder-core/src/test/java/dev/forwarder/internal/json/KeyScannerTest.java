package dev.forwarder.internal.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.DataType;
import dev.forwarder.testkit.Golden;
import dev.forwarder.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The allocation-free key scan against Jackson ({@link MessageKeys#keyOf(byte[])}): wherever the scan
 * answers, it answers what Jackson does; on the usual records it does answer.
 */
class KeyScannerTest {

    /** The scan's answer as a key, or the string "ASK" when it defers. */
    private static String scanned(byte[] json) {
        long found = KeyScanner.find(json);
        if (found == KeyScanner.ASK_JACKSON) {
            return "ASK";
        }
        return found == KeyScanner.NO_KEY
                ? null
                : new String(json, KeyScanner.offset(found), KeyScanner.length(found), StandardCharsets.UTF_8);
    }

    private static void sameAsJackson(byte[] json) {
        String scanned = scanned(json);
        if (!"ASK".equals(scanned)) {
            assertEquals(MessageKeys.keyOf(json), scanned, () -> "for " + new String(json, StandardCharsets.UTF_8));
        }
    }

    private static void answersLikeJackson(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        assertNotEquals("ASK", scanned(bytes), "the scan deferred on " + json);
        sameAsJackson(bytes);
    }

    @Test
    void goldenAndTestRecordsAreAnsweredByTheScanAsJacksonDoes() {
        for (DataType type : DataType.values()) {
            byte[] golden = Golden.json(type);
            assertNotEquals("ASK", scanned(golden), type.wireName());
            sameAsJackson(golden);
            String id = Records.id(UUID.randomUUID(), 3);
            assertEquals(id, scanned(Records.json(type, id)));
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{}",
                " \t\r\n{ } ",
                "{\"id\":\"a\"}",
                "{\"id\":\"\",\"inference_id\":\"b\"}",
                "{\"id\":\"\",\"id\":\"second\"}",
                "{\"id\":5,\"id\":\"later\"}",
                "{\"id\":null,\"episode_id\":\"e\",\"inference_id\":\"i\"}",
                "{\"target_id\":\"t\",\"episode_id\":\"e\"}",
                "{\"target_id\":\"t\"}",
                "{\"inference_id\":\"first\",\"inference_id\":\"second\"}",
                "{\"x\":{\"id\":\"nested, not top level\"},\"episode_id\":\"e\"}",
                "{\"x\":[{\"id\":\"in an array\"}],\"y\":[[],[[]],{}],\"z\":\"}\"}",
                "{\"s\":\"quote \\\" brace } bracket ] comma , colon :\",\"id\":\"k\"}",
                "{\"s\":\"\\u00e9\\n\\t\\\\\\/\\b\\f\\r\",\"id\":\"k\"}",
                "{\"n\":[0,-0,1.5,-2e10,3E+2,4e-3,123456789012345678901234567890],\"id\":\"k\"}",
                "{\"b\":[true,false,null],\"id\":\"k\"}",
                "{\"text\":\"日本語 · ελληνικά · emoji 😀\",\"id\":\"clé-日本\"}",
                "{ \"id\" : \"spaced\" }",
                "{\"inference_id\":\"\",\"episode_id\":\"\"}",
                "{\"ID\":\"upper case is another field\"}",
                "{\"id \":\"a space in the name\"}",
            })
    void adversarialButValidJsonIsAnsweredAsJacksonDoes(String json) {
        answersLikeJackson(json);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"i\\u0064\":\"escaped field name\"}",
                "{\"id\":\"escaped \\\" value\"}",
                "{\"a\":1,}",
                "{\"a\":01,\"id\":\"k\"}",
                "{\"a\":tru,\"id\":\"k\"}",
                "{\"a\":truex,\"id\":\"k\"}",
                "{\"a\":1x,\"id\":\"k\"}",
                "{\"a\":\"tab\there\",\"id\":\"k\"}",
                "{\"a\":\"bad \\q escape\",\"id\":\"k\"}",
                "{\"a\" \"no colon\",\"id\":\"k\"}",
                "{\"a\":[1 2],\"id\":\"k\"}",
                "{\"a\":/*c*/1,\"id\":\"k\"}",
                "{'id':'single quotes'}",
                "{\"id\":\"k\"",
                "{\"a\":\"unterminated",
                "[\"id\",\"k\"]",
                "{\"a\":+1,\"id\":\"k\"}",
                "{\"a\":.5,\"id\":\"k\"}",
                "{\"a\":1.,\"id\":\"k\"}",
                "{\"a\":NaN,\"id\":\"k\"}",
            })
    void whatTheScanDoesNotHandleGoesToJacksonOrAgreesWithIt(String json) {
        sameAsJackson(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void badUtf8AndOtherEncodingsAreLeftToJackson() {
        byte[][] inputs = {
            {
                '{',
                '"',
                'a',
                '"',
                ':',
                '"',
                (byte) 0xC0,
                (byte) 0x80,
                '"',
                ',',
                '"',
                'i',
                'd',
                '"',
                ':',
                '"',
                'k',
                '"',
                '}'
            },
            {
                '{',
                '"',
                'a',
                '"',
                ':',
                '"',
                (byte) 0xE2,
                (byte) 0x28,
                (byte) 0xA1,
                '"',
                ',',
                '"',
                'i',
                'd',
                '"',
                ':',
                '"',
                'k',
                '"',
                '}'
            },
            {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'},
            "{\"id\":\"k\"}".getBytes(StandardCharsets.UTF_16LE),
            "{\"id\":\"k\"}".getBytes(StandardCharsets.UTF_16BE),
        };
        for (byte[] input : inputs) {
            assertEquals("ASK", scanned(input), new String(input, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void deepNestingIsLeftToJackson() {
        String deep = "[".repeat(100) + "]".repeat(100);
        assertEquals("ASK", scanned(("{\"a\":" + deep + ",\"id\":\"k\"}").getBytes(StandardCharsets.UTF_8)));
        String shallow = "[".repeat(40) + "]".repeat(40);
        answersLikeJackson("{\"a\":" + shallow + ",\"id\":\"k\"}");
    }

    /**
     * Mutations of real records (bytes flipped, inserted, deleted, cut; JSON punctuation spliced in): where
     * the scan answers, Jackson agrees. Seeded, so a failure names its input and repeats.
     */
    @Test
    void mutatedRecordsNeverGetAnotherKeyThanJacksonGives() {
        List<byte[]> seeds = new ArrayList<>();
        for (DataType type : DataType.values()) {
            seeds.add(Golden.json(type));
            seeds.add(Records.json(type, Records.id(new UUID(7, 7), 1)));
        }
        seeds.add("{\"inference_id\":\"i\",\"x\":[1,{\"y\":\"z\"}],\"episode_id\":\"e\",\"target_id\":\"t\"}"
                .getBytes(StandardCharsets.UTF_8));
        byte[] punctuation = "{}[]\",:\\ 0-.eEtfnu\u00e9".getBytes(StandardCharsets.UTF_8);
        SplittableRandom random = new SplittableRandom(20261127);
        int answered = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] json = seeds.get(random.nextInt(seeds.size())).clone();
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits && json.length > 2; e++) {
                int at = random.nextInt(json.length);
                switch (random.nextInt(5)) {
                    case 0 -> json[at] = (byte) random.nextInt(256);
                    case 1 -> json[at] = punctuation[random.nextInt(punctuation.length)];
                    case 2 -> json = splice(json, at, new byte[] {punctuation[random.nextInt(punctuation.length)]}, 0);
                    case 3 -> json = splice(json, at, new byte[0], 1);
                    default -> json = Arrays.copyOf(json, at);
                }
            }
            String scanned = scanned(json);
            if (!"ASK".equals(scanned)) {
                answered++;
                byte[] input = json;
                assertEquals(
                        MessageKeys.keyOf(json),
                        scanned,
                        () -> "mutation " + new String(input, StandardCharsets.ISO_8859_1));
            }
        }
        assertTrue(answered > 20_000, "the scan answered only " + answered + " of 200000 mutations");
    }

    private static byte[] splice(byte[] json, int at, byte[] insert, int remove) {
        int removed = Math.min(remove, json.length - at);
        byte[] out = new byte[json.length - removed + insert.length];
        System.arraycopy(json, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(json, at + removed, out, at + insert.length, json.length - at - removed);
        return out;
    }
}
