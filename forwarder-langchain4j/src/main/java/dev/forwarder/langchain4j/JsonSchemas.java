package dev.forwarder.langchain4j;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A tool's parameters (LangChain4j's {@link JsonSchemaElement} tree) as the JSON Schema object a provider is
 * sent, from LangChain4j's public model classes only. It writes what LangChain4j's own non-strict conversion
 * writes ({@code dev.langchain4j.internal.JsonSchemaElementUtils.toMap}, which is {@code @Internal}: not for
 * use outside LangChain4j), so the records are the same; {@code JsonSchemasTest} holds the two together.
 */
final class JsonSchemas {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonSchemas() {}

    static ObjectNode toJson(JsonSchemaElement element) {
        if (element instanceof JsonObjectSchema object) {
            ObjectNode out = typed("object", object.description());
            ObjectNode properties = out.putObject("properties");
            object.properties().forEach((name, value) -> properties.set(name, toJson(value)));
            if (object.required() != null) {
                ArrayNode required = out.putArray("required");
                object.required().forEach(required::add);
            }
            if (!object.definitions().isEmpty()) {
                out.set("$defs", toJson(object.definitions()));
            }
            return out;
        } else if (element instanceof JsonArraySchema array) {
            ObjectNode out = typed("array", array.description());
            out.set("items", array.items() == null ? NODES.objectNode() : toJson(array.items()));
            return out;
        } else if (element instanceof JsonEnumSchema enumeration) {
            ObjectNode out = typed("string", enumeration.description());
            ArrayNode values = out.putArray("enum");
            enumeration.enumValues().forEach(values::add);
            return out;
        } else if (element instanceof JsonStringSchema string) {
            return typed("string", string.description());
        } else if (element instanceof JsonIntegerSchema integer) {
            return typed("integer", integer.description());
        } else if (element instanceof JsonNumberSchema number) {
            return typed("number", number.description());
        } else if (element instanceof JsonBooleanSchema bool) {
            return typed("boolean", bool.description());
        } else if (element instanceof JsonReferenceSchema reference) {
            ObjectNode out = NODES.objectNode();
            if (reference.reference() != null) {
                out.put("$ref", "#/$defs/" + reference.reference());
            }
            return out;
        } else if (element instanceof JsonAnyOfSchema anyOf) {
            ObjectNode out = NODES.objectNode();
            if (anyOf.description() != null) {
                out.put("description", anyOf.description());
            }
            ArrayNode options = out.putArray("anyOf");
            anyOf.anyOf().forEach(option -> options.add(toJson(option)));
            return out;
        } else if (element instanceof JsonNullSchema) {
            return NODES.objectNode().put("type", "null");
        } else if (element instanceof JsonRawSchema raw) {
            try {
                JsonNode schema = JSON.readTree(raw.schema());
                if (!schema.isObject()) {
                    throw new IllegalArgumentException("a raw JSON schema that is not an object: " + raw.schema());
                }
                return (ObjectNode) schema;
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalArgumentException("unknown JSON schema element: "
                + (element == null ? "null" : element.getClass().getName()));
    }

    private static ObjectNode toJson(Map<String, JsonSchemaElement> definitions) {
        ObjectNode out = NODES.objectNode();
        definitions.forEach((name, value) -> out.set(name, toJson(value)));
        return out;
    }

    private static ObjectNode typed(String type, String description) {
        ObjectNode out = NODES.objectNode().put("type", type);
        if (description != null) {
            out.put("description", description);
        }
        return out;
    }
}
