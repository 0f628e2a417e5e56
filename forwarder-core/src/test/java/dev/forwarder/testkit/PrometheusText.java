package dev.forwarder.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4): every line must be a HELP or
 * TYPE line, a comment, empty, or a well-formed sample of a declared family; labels are parsed with their
 * escapes; a repeated series is an error. Anything else fails with the line number.
 */
public final class PrometheusText {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern TYPE =
            Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*|# HELP (" + NAME + ")");
    private static final Set<String> SUFFIXES = Set.of("", "_total", "_count", "_sum", "_bucket", "_created", "_info");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples = new ArrayList<>();
    private final Map<String, String> types = new HashMap<>();

    private PrometheusText() {}

    public static PrometheusText parse(String text) {
        PrometheusText result = new PrometheusText();
        Set<String> series = new HashSet<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int lineNo = i + 1;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                Matcher type = TYPE.matcher(line);
                if (type.matches()) {
                    if (result.types.put(type.group(1), type.group(2)) != null) {
                        throw new IllegalArgumentException("line " + lineNo + ": second TYPE for " + type.group(1));
                    }
                } else if (line.startsWith("# HELP") && !HELP.matcher(line).matches()) {
                    throw new IllegalArgumentException("line " + lineNo + ": malformed HELP: " + line);
                }
                continue;
            }
            Sample sample = sample(line, lineNo);
            if (family(result.types, sample.name()).isEmpty()) {
                throw new IllegalArgumentException("line " + lineNo + ": sample of undeclared family: " + line);
            }
            if (!series.add(sample.name() + sample.labels())) {
                throw new IllegalArgumentException("line " + lineNo + ": repeated series: " + line);
            }
            result.samples.add(sample);
        }
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition must end with a newline");
        }
        return result;
    }

    private static Optional<String> family(Map<String, String> types, String name) {
        for (String suffix : SUFFIXES) {
            if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
                return Optional.of(name.substring(0, name.length() - suffix.length()));
            }
        }
        return Optional.empty();
    }

    private static Sample sample(String line, int lineNo) {
        Matcher name = NAME.matcher(line);
        if (!name.lookingAt()) {
            throw new IllegalArgumentException("line " + lineNo + ": no metric name: " + line);
        }
        int pos = name.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (pos < line.length() && line.charAt(pos) == '{') {
            pos++;
            while (line.charAt(pos) != '}') {
                Matcher label = LABEL_NAME.matcher(line).region(pos, line.length());
                if (!label.lookingAt() || line.charAt(label.end()) != '=' || line.charAt(label.end() + 1) != '"') {
                    throw new IllegalArgumentException(
                            "line " + lineNo + ": malformed label at column " + pos + ": " + line);
                }
                StringBuilder value = new StringBuilder();
                int p = label.end() + 2;
                while (line.charAt(p) != '"') {
                    char c = line.charAt(p);
                    if (c == '\\') {
                        char next = line.charAt(++p);
                        switch (next) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw new IllegalArgumentException("line " + lineNo + ": bad escape \\" + next);
                        }
                    } else {
                        value.append(c);
                    }
                    p++;
                }
                if (labels.put(label.group(), value.toString()) != null) {
                    throw new IllegalArgumentException("line " + lineNo + ": repeated label " + label.group());
                }
                pos = p + 1;
                if (line.charAt(pos) == ',') {
                    pos++;
                }
            }
            pos++;
        }
        if (pos >= line.length() || line.charAt(pos) != ' ') {
            throw new IllegalArgumentException("line " + lineNo + ": expected a space before the value: " + line);
        }
        String[] rest = line.substring(pos + 1).split(" ");
        if (rest.length < 1 || rest.length > 2) {
            throw new IllegalArgumentException("line " + lineNo + ": expected value [timestamp]: " + line);
        }
        double value = switch (rest[0]) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(rest[0]);
        };
        if (rest.length == 2) {
            Long.parseLong(rest[1]);
        }
        return new Sample(name.group(), labels, value);
    }

    public Map<String, String> types() {
        return types;
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The value of the one sample with this name and exactly these labels. */
    public double value(String name, Map<String, String> labels) {
        return samples.stream()
                .filter(s -> s.name().equals(name) && s.labels().equals(labels))
                .mapToDouble(Sample::value)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + name + labels + " in:\n" + dump()));
    }

    public double value(String name) {
        return value(name, Map.of());
    }

    /** The finite upper bounds ({@code le}) of a histogram's buckets, in the order exposed. */
    public List<Double> bucketBounds(String histogram) {
        return samples.stream()
                .filter(s -> s.name().equals(histogram + "_bucket"))
                .map(s -> s.labels().get("le"))
                .filter(le -> !le.equals("+Inf"))
                .map(Double::parseDouble)
                .toList();
    }

    private String dump() {
        StringBuilder b = new StringBuilder();
        samples.forEach(s -> b.append(s).append('\n'));
        return b.toString();
    }
}
