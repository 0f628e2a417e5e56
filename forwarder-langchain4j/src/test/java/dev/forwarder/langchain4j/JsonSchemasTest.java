package dev.forwarder.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.json.JsonAnyOfSchema;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonBooleanSchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonIntegerSchema;
import dev.langchain4j.model.chat.request.json.JsonNullSchema;
import dev.langchain4j.model.chat.request.json.JsonNumberSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonRawSchema;
import dev.langchain4j.model.chat.request.json.JsonReferenceSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class JsonSchemasTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Every kind of element, nested, with and without descriptions, definitions and a reference. */
    private static JsonObjectSchema everyKind() {
        JsonObjectSchema address = JsonObjectSchema.builder()
                .addStringProperty("street", "the street")
                .addIntegerProperty("number")
                .required("street")
                .build();
        return JsonObjectSchema.builder()
                .description("a tool's parameters")
                .addProperty(
                        "city",
                        JsonStringSchema.builder().description("the city").build())
                .addProperty("days", JsonIntegerSchema.builder().build())
                .addProperty(
                        "ratio", JsonNumberSchema.builder().description("0..1").build())
                .addProperty("metric", JsonBooleanSchema.builder().build())
                .addProperty(
                        "unit",
                        JsonEnumSchema.builder()
                                .enumValues("C", "F")
                                .description("the unit")
                                .build())
                .addProperty(
                        "tags",
                        JsonArraySchema.builder()
                                .items(JsonStringSchema.builder().build())
                                .build())
                .addProperty(
                        "anything",
                        JsonArraySchema.builder().description("no items").build())
                .addProperty("home", address)
                .addProperty(
                        "either",
                        JsonAnyOfSchema.builder()
                                .description("one of")
                                .anyOf(JsonStringSchema.builder().build(), new JsonNullSchema())
                                .build())
                .addProperty(
                        "self", JsonReferenceSchema.builder().reference("node").build())
                .addProperty("raw", JsonRawSchema.from("{\"type\":\"string\",\"format\":\"date\"}"))
                .required("city", "unit")
                .definitions(Map.of("node", address))
                .build();
    }

    @Test
    void writesWhatLangChain4jsOwnConversionWrites() throws Exception {
        List<JsonSchemaElement> schemas = List.of(
                everyKind(),
                JsonObjectSchema.builder().build(),
                JsonArraySchema.builder()
                        .items(JsonObjectSchema.builder()
                                .addBooleanProperty("b")
                                .build())
                        .build());
        for (JsonSchemaElement schema : schemas) {
            assertEquals(
                    JSON.writeValueAsString(JSON.valueToTree(JsonSchemaElementUtils.toMap(schema))),
                    JSON.writeValueAsString(JsonSchemas.toJson(schema)),
                    schema.toString());
        }
    }

    /**
     * The listener's code uses no class LangChain4j marks {@code @Internal} (kept in the class file only: the
     * class's bytes name the annotation). Checked over every LangChain4j import of this module and the starter.
     */
    @Test
    void noLangChain4jClassMarkedInternalIsImported() throws IOException {
        TreeSet<String> imported = new TreeSet<>();
        Pattern importLine = Pattern.compile("^import (dev\\.langchain4j\\.[A-Za-z0-9_.]+);", Pattern.MULTILINE);
        Path module = Path.of(System.getProperty("user.dir"));
        for (Path sources : List.of(
                module.resolve("src/main/java"),
                module.getParent().resolve("forwarder-spring-boot-starter/src/main/java"))) {
            try (Stream<Path> files = Files.walk(sources)) {
                for (Path file :
                        files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = importLine.matcher(Files.readString(file));
                    while (m.find()) {
                        imported.add(m.group(1));
                    }
                }
            }
        }
        assertTrue(imported.size() > 10, "found the imports: " + imported);
        byte[] marker = "Ldev/langchain4j/Internal;".getBytes(StandardCharsets.US_ASCII);
        for (String name : imported) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(name.replace('.', '/') + ".class")) {
                assertTrue(in != null, "no class file for " + name);
                assertFalse(contains(in.readAllBytes(), marker), name + " is @Internal in LangChain4j");
            }
        }
        try (InputStream in = getClass()
                .getClassLoader()
                .getResourceAsStream("dev/langchain4j/internal/JsonSchemaElementUtils.class")) {
            assertTrue(contains(in.readAllBytes(), marker), "the check sees an @Internal class");
        }
    }

    private static boolean contains(byte[] bytes, byte[] marker) {
        outer:
        for (int i = 0; i + marker.length <= bytes.length; i++) {
            for (int j = 0; j < marker.length; j++) {
                if (bytes[i + j] != marker[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
