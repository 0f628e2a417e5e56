package dev.forwarder.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.internal.config.KnownKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The IDE metadata of the keys ({@code META-INF/spring-configuration-metadata.json}, in the format
 * spring-boot-configuration-processor writes, which it cannot write here: our keys are no
 * {@code @ConfigurationProperties} class) is made from the one key table, the defaults ({@code reference.conf})
 * and the README's descriptions, and must be what they make now: run with {@code -Dmetadata.write=true} to
 * write it again.
 */
class ConfigurationMetadataTest {

    private static final Path FILE = Path.of("src/main/resources/META-INF/spring-configuration-metadata.json");
    private static final Pattern README_ROW = Pattern.compile("^\\| `([a-z_.]+)` \\| ([^|]*) \\| (.*) \\|$");

    @Test
    void theMetadataListsEveryKeyWithItsTypeDefaultAndDescription() throws Exception {
        String expected = generate();
        if (Boolean.getBoolean("metadata.write")) {
            Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        }
        assertEquals(
                expected,
                Files.readString(FILE, StandardCharsets.UTF_8),
                FILE + " is not what the key table makes: run this test with -Dmetadata.write=true");
    }

    static String generate() throws Exception {
        Map<String, String> descriptions = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("../README.md"), StandardCharsets.UTF_8)) {
            Matcher m = README_ROW.matcher(line);
            if (m.matches()) {
                descriptions.put(m.group(1), m.group(3).replace("`", "").trim());
            }
        }
        Config defaults = ConfigFactory.defaultReference(ForwarderConfig.class.getClassLoader());
        List<Map<String, Object>> properties = new ArrayList<>();
        List<Map<String, Object>> hints = new ArrayList<>();
        properties.add(property(
                EnvironmentConfig.CONFIG_FILE,
                "java.lang.String",
                "A HOCON, JSON or tensorzero.toml file read under the application's properties.",
                null));
        properties.add(property(
                "forwarder.spring.enabled", "java.lang.Boolean", "false: the starter makes no Forwarder bean.", true));
        for (String path : KnownKeys.values()) {
            String type = switch (KnownKeys.typeOf(path)) {
                case "boolean" -> "java.lang.Boolean";
                case "integer" -> "java.lang.Long";
                default -> "java.lang.String";
            };
            Object defaultValue =
                    defaults.hasPath(path) ? defaults.getValue(path).unwrapped() : null;
            String name = EnvironmentConfig.springName(path).toString();
            properties.add(property(name, type, descriptions.get(path), defaultValue));
            List<String> choices = KnownKeys.choicesOf(path);
            if (!choices.isEmpty()) {
                List<Map<String, Object>> values = new ArrayList<>();
                choices.forEach(c -> values.add(Map.of("value", c)));
                Map<String, Object> hint = new LinkedHashMap<>();
                hint.put("name", name);
                hint.put("values", values);
                hints.add(hint);
            }
        }
        for (String path : KnownKeys.passthrough()) {
            properties.add(property(
                    EnvironmentConfig.springName(path).toString(),
                    "java.util.Map<java.lang.String,java.lang.String>",
                    descriptions.get(path),
                    null));
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("properties", properties);
        root.put("hints", hints);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
    }

    private static Map<String, Object> property(String name, String type, String description, Object defaultValue) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", name);
        p.put("type", type);
        if (description != null) {
            p.put("description", description);
        }
        if (defaultValue != null) {
            p.put("defaultValue", defaultValue);
        }
        return p;
    }
}
