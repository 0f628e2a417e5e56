package dev.forwarder.internal.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.forwarder.ForwarderConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a TensorZero {@code tensorzero.toml} with a real TOML parser (Jackson's) into the same Typesafe
 * Config tree a HOCON file gives. Keys are taken literally (a TOML key {@code "client.id"} stays one key),
 * and everything outside {@code gateway.observability} and {@code forwarder} is left alone, so a complete
 * gateway configuration (models, functions, ...) loads as it is.
 */
public final class TomlReader {

    private TomlReader() {}

    public static Config read(Path file) {
        JsonNode root;
        try {
            root = new TomlMapper().readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new ForwarderConfigException(List.of(file + ": not valid TOML: " + e.getOriginalMessage()
                    + (e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ", column "
                                    + e.getLocation().getColumnNr() + ")")));
        } catch (IOException e) {
            throw new ForwarderConfigException(List.of("cannot read " + file + ": " + e.getMessage()));
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        JsonNode observability = root.path("gateway").path("observability");
        if (!observability.isMissingNode()) {
            kept.put("gateway", Map.of("observability", plain(observability)));
        }
        if (root.has("forwarder")) {
            kept.put("forwarder", plain(root.get("forwarder")));
        }
        return ConfigValueFactory.fromMap(kept, "TOML file " + file).toConfig();
    }

    /** The node as maps, lists, strings, numbers and booleans (TOML dates become their text). */
    private static Object plain(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.fields().forEachRemaining(e -> map.put(e.getKey(), plain(e.getValue())));
            return map;
        } else if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(n -> list.add(plain(n)));
            return list;
        } else if (node.isBoolean()) {
            return node.booleanValue();
        } else if (node.isIntegralNumber()) {
            return node.longValue();
        } else if (node.isNumber()) {
            return node.doubleValue();
        } else if (node.isNull()) {
            return null;
        }
        return node.asText();
    }
}
