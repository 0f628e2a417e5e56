package dev.forwarder.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real ClickHouse (26.7, the npm package {@code chdb}: ClickHouse in process) in a Node child process, for
 * the tests that prove records load into TensorZero's tables. {@link #install()} puts chdb under
 * {@code ~/.cache/forwarder-tests/} the first time (npm's registry; about 10 s, 550 MB), outside
 * {@code target/} so a clean build does not download it again. SQL goes to the child one statement per line
 * of JSON over stdin ({@code testkit/chdb-server.js}); its answer comes back the same way.
 */
public final class ClickHouse implements AutoCloseable {

    public static final String CHDB_VERSION = "3.4.0";

    /**
     * The settings of TensorZero's gateway's inserts ({@code db/clickhouse/mod.rs}: unknown fields and nulls in
     * columns that are not Nullable are errors; every other input setting is ClickHouse's default).
     */
    public static final String GATEWAY_INSERT_SETTINGS =
            "SETTINGS async_insert = 1, wait_for_async_insert = 1, input_format_skip_unknown_fields = 0,"
                    + " input_format_null_as_default = 0";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;

    private ClickHouse(Process process) {
        this.process = process;
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** The directory holding {@code node_modules/chdb}, installed with npm when it is not there yet. */
    public static synchronized Path install() throws IOException, InterruptedException {
        requireNode();
        Path home = Path.of(System.getProperty("user.home"), ".cache", "forwarder-tests", "chdb-" + CHDB_VERSION);
        if (Files.isRegularFile(home.resolve("node_modules/chdb/package.json"))) {
            return home;
        }
        Path staging = Files.createDirectories(home.getParent()).resolve(home.getFileName() + ".installing");
        KafkaBroker.deleteRecursively(staging);
        Files.createDirectories(staging);
        List<String> command = List.of(
                "npm", "install", "--no-audit", "--no-fund", "--prefix", staging.toString(), "chdb@" + CHDB_VERSION);
        String output;
        int exit;
        try {
            Process npm = new ProcessBuilder(command).redirectErrorStream(true).start();
            output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            exit = npm.waitFor(600, TimeUnit.SECONDS) ? npm.exitValue() : -1;
        } catch (IOException e) {
            throw new IOException("cannot run npm (Node 20 and npm are needed for the ClickHouse tests): " + e, e);
        }
        if (exit != 0 || !Files.isRegularFile(staging.resolve("node_modules/chdb/package.json"))) {
            throw new IOException(String.join(" ", command) + " failed (exit " + exit + "):\n" + output);
        }
        KafkaBroker.deleteRecursively(home);
        Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
        return home;
    }

    /**
     * Node and npm, installed with apt-get (Debian's {@code nodejs} and {@code npm}, as root) when missing; a
     * clear failure, saying what is missing, when that is impossible.
     */
    private static void requireNode() throws IOException, InterruptedException {
        if (runs("node", "--version") && runs("npm", "--version")) {
            return;
        }
        StringBuilder out = new StringBuilder();
        for (List<String> step : List.of(
                List.of("apt-get", "install", "-y", "-q", "nodejs", "npm"),
                List.of("apt-get", "update", "-q"),
                List.of("apt-get", "install", "-y", "-q", "nodejs", "npm"))) {
            if (runs("node", "--version") && runs("npm", "--version")) {
                return;
            }
            try {
                Process apt = new ProcessBuilder(step).redirectErrorStream(true).start();
                out.append(new String(apt.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                apt.waitFor(600, TimeUnit.SECONDS);
            } catch (IOException e) {
                out.append(e).append('\n');
            }
        }
        if (!(runs("node", "--version") && runs("npm", "--version"))) {
            throw new IOException("the ClickHouse tests need Node and npm (for the npm package chdb); they are"
                    + " missing and apt-get could not install nodejs and npm:\n" + out);
        }
    }

    private static boolean runs(String... command) throws InterruptedException {
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** A ClickHouse whose data lives in {@code dataDir}; the child's output beyond answers goes to a log there. */
    public static ClickHouse start(Path dataDir) throws IOException, InterruptedException {
        Path home = install();
        Path script = home.resolve("chdb-server.js");
        try (InputStream source = ClickHouse.class.getResourceAsStream("/testkit/chdb-server.js")) {
            Files.copy(source, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.createDirectories(dataDir);
        Process process = new ProcessBuilder(
                        "node", script.toString(), dataDir.resolve("db").toString())
                .directory(home.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(
                        dataDir.resolve("chdb.log").toFile()))
                .start();
        ClickHouse clickHouse = new ClickHouse(process);
        String ready = clickHouse.out.readLine();
        if (ready == null || !ready.contains("ready")) {
            process.destroyForcibly();
            throw new IOException("chdb did not start (see " + dataDir.resolve("chdb.log") + "): " + ready);
        }
        return clickHouse;
    }

    /** Runs one statement; its output in {@code JSONEachRow} unless the statement says otherwise. */
    public String query(String sql) {
        Result result = run(sql);
        if (result.error != null) {
            throw new IllegalStateException(
                    "ClickHouse refused: " + sql.lines().findFirst().orElse("") + "\n" + result.error);
        }
        return result.out;
    }

    /** Runs one statement; empty when it succeeded, else ClickHouse's error. */
    public Optional<String> tryQuery(String sql) {
        return Optional.ofNullable(run(sql).error);
    }

    /** The rows of a SELECT, each one JSON object. */
    public List<JsonNode> rows(String select) {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : query(select).split("\n")) {
            if (!line.isBlank()) {
                try {
                    rows.add(JSON.readTree(line));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return rows;
    }

    /** The single number a {@code SELECT count()} (or similar) returns: the first column of its first row. */
    public long number(String select) {
        List<JsonNode> rows = rows(select);
        if (rows.isEmpty()) {
            throw new IllegalStateException("no row from: " + select);
        }
        return Long.parseLong(rows.get(0).elements().next().asText());
    }

    /**
     * Inserts rows of JSON as TensorZero's gateway does ({@link #GATEWAY_INSERT_SETTINGS}, {@code FORMAT
     * JSONEachRow}).
     *
     * @return empty when ClickHouse took them, else its error
     */
    public Optional<String> insertAsGateway(String table, List<byte[]> rows) {
        StringBuilder sql =
                new StringBuilder("INSERT INTO " + table + " " + GATEWAY_INSERT_SETTINGS + " FORMAT JSONEachRow\n");
        for (byte[] row : rows) {
            sql.append(new String(row, StandardCharsets.UTF_8)).append('\n');
        }
        return tryQuery(sql.toString());
    }

    /** TensorZero's ModelInference, ChatInference and JsonInference tables, as its migrations leave them. */
    public void createTensorZeroTables() throws IOException {
        runScript(resource("/testkit/tensorzero-tables.sql"));
    }

    /** Runs every statement of a script (statements end with {@code ;} at the end of a line; {@code --} comments). */
    public void runScript(String script) {
        StringBuilder statement = new StringBuilder();
        for (String line : script.split("\n")) {
            String code = line.strip();
            if (code.startsWith("--") || code.isEmpty()) {
                continue;
            }
            statement.append(line).append('\n');
            if (code.endsWith(";")) {
                query(statement.toString());
                statement.setLength(0);
            }
        }
        if (!statement.toString().isBlank()) {
            query(statement.toString());
        }
    }

    public static String resource(String name) throws IOException {
        try (InputStream in = ClickHouse.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("no resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private record Result(String out, String error) {}

    private synchronized Result run(String sql) {
        try {
            ObjectNode request = JSON.createObjectNode().put("sql", sql).put("format", "JSONEachRow");
            in.write(JSON.writeValueAsString(request));
            in.write('\n');
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IllegalStateException("chdb exited (exit " + process.waitFor() + ") on: " + sql);
            }
            JsonNode answer = JSON.readTree(line);
            return answer.get("ok").asBoolean()
                    ? new Result(answer.get("out").asText(), null)
                    : new Result(null, answer.get("error").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            in.close();
        } catch (IOException ignored) {
            // the child is gone already
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
