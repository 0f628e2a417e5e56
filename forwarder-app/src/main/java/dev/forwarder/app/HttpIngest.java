package dev.forwarder.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.PublishResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * The forwarder's HTTP interface, on Jetty 12:
 *
 * <pre>
 *   POST /v1/events/{data_type}   one JSON object (application/json) or many (application/x-ndjson)
 *                                 202 {"accepted": n}; all or nothing: any invalid line appends nothing
 *                                 400 names the line and the field; 404 unknown data type; 413 body too
 *                                 large; 503 + Retry-After when the spool refuses or more than
 *                                 max_concurrent requests are in progress; 401 without the token
 *   GET  /metrics                 Prometheus text
 *   GET  /status                  ForwarderStatus as JSON
 *   GET  /health/live             200 while the process runs
 *   GET  /health/ready            200 while the spool accepts records, else 503
 * </pre>
 *
 * Errors are JSON: {@code {"error": "..."}}. Every record is checked against the model of its data type
 * before anything is appended, and the bytes as sent are what goes to Kafka.
 */
final class HttpIngest implements AutoCloseable {

    private static final ObjectMapper JSON =
            new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private final Forwarder forwarder;
    private final ForwarderConfig.Http settings;
    private final Server server;
    private final byte[] expectedAuthorization;
    private final Semaphore ingestSlots;
    private volatile boolean accepting = true;

    HttpIngest(Forwarder forwarder, ForwarderConfig.Http settings) {
        this.forwarder = forwarder;
        this.settings = settings;
        this.ingestSlots = new Semaphore(settings.maxConcurrent());
        this.expectedAuthorization =
                settings.token() == null || settings.token().isEmpty()
                        ? null
                        : ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
        this.server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                try {
                    route(request, response, callback);
                } catch (Exception e) {
                    reply(response, callback, 500, error("internal error: " + e));
                }
                return true;
            }
        });
    }

    void start() throws Exception {
        server.start();
    }

    /** The port it listens on (the configured one, or the one picked for port 0). */
    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** Refuse new events (503) from now on; the other endpoints keep answering. */
    void stopAccepting() {
        accepting = false;
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    private void route(Request request, Response response, Callback callback) throws IOException {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        if (path.equals("/health/live")) {
            reply(response, callback, 200, JSON.createObjectNode().put("live", true));
            return;
        }
        if (path.equals("/health/ready")) {
            boolean ready = accepting && forwarder.acceptsRecords();
            reply(response, callback, ready ? 200 : 503, JSON.createObjectNode().put("ready", ready));
            return;
        }
        if (!authorised(request)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            reply(response, callback, 401, error("missing or wrong bearer token"));
            return;
        }
        if (path.equals("/metrics") && HttpMethod.GET.is(method)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            forwarder.writePrometheus(out);
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, Forwarder.prometheusContentType());
            response.write(true, ByteBuffer.wrap(out.toByteArray()), callback);
            return;
        }
        if (path.equals("/status") && HttpMethod.GET.is(method)) {
            reply(response, callback, 200, JSON.valueToTree(forwarder.status()));
            return;
        }
        if (path.startsWith("/v1/events/")) {
            if (!HttpMethod.POST.is(method)) {
                response.getHeaders().put(HttpHeader.ALLOW, "POST");
                reply(response, callback, 405, error("use POST"));
                return;
            }
            ingest(path.substring("/v1/events/".length()), request, response, callback);
            return;
        }
        reply(response, callback, 404, error("no such endpoint: " + method + " " + path));
    }

    private void ingest(String typeName, Request request, Response response, Callback callback) throws IOException {
        Optional<DataType> type = DataType.fromWireName(typeName);
        if (type.isEmpty()) {
            reply(
                    response,
                    callback,
                    404,
                    error("unknown data type \"" + typeName + "\"; known: "
                            + Arrays.stream(DataType.values())
                                    .map(DataType::wireName)
                                    .toList()));
            return;
        }
        if (!accepting) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
            reply(response, callback, 503, error("the forwarder is shutting down"));
            return;
        }
        long declared = request.getLength();
        if (declared > settings.maxBodyBytes()) {
            reply(
                    response,
                    callback,
                    413,
                    error("body of " + declared + " bytes is over the limit of " + settings.maxBodyBytes()
                            + " bytes (forwarder.http.max_body_bytes)"));
            return;
        }
        // At most max_concurrent bodies in memory at once: beyond, 503 at once, before reading the body.
        if (!ingestSlots.tryAcquire()) {
            // Read the body through a small buffer and drop it (no memory held), so that the client, still
            // sending, gets this answer instead of a reset connection.
            discardAtMost(Request.asInputStream(request), settings.maxBodyBytes() + 1);
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            reply(
                    response,
                    callback,
                    503,
                    error("too many ingest requests at once (forwarder.http.max_concurrent = "
                            + settings.maxConcurrent() + "); try again"));
            return;
        }
        try {
            ingestBody(type.get(), request, response, callback);
        } finally {
            ingestSlots.release();
        }
    }

    private void ingestBody(DataType dataType, Request request, Response response, Callback callback)
            throws IOException {
        byte[] body = readAtMost(Request.asInputStream(request), request.getLength(), settings.maxBodyBytes());
        if (body == null) {
            reply(
                    response,
                    callback,
                    413,
                    error("body is over the limit of " + settings.maxBodyBytes()
                            + " bytes (forwarder.http.max_body_bytes)"));
            return;
        }
        String contentType = Optional.ofNullable(request.getHeaders().get(HttpHeader.CONTENT_TYPE))
                .orElse("");
        boolean ndjson = contentType.startsWith("application/x-ndjson");
        List<Line> records = ndjson ? lines(body) : List.of(new Line(1, body));
        if (records.isEmpty()) {
            reply(response, callback, 400, error("the body holds no record"));
            return;
        }
        // All or nothing: every record is checked before any is appended.
        for (Line line : records) {
            Optional<String> invalid = forwarder.check(dataType, line.bytes());
            if (invalid.isPresent()) {
                reply(response, callback, 400, error((ndjson ? "line " + line.number() + ": " : "") + invalid.get()));
                return;
            }
        }
        int accepted = 0;
        for (Line line : records) {
            PublishResult result = forwarder.publish(dataType, line.bytes());
            if (result.dropped()) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
                ObjectNode body503 = error("record " + (accepted + 1) + " not accepted: " + result.status()
                        + (result.detail() == null ? "" : " (" + result.detail() + ")"));
                body503.put("accepted", accepted);
                reply(response, callback, 503, body503);
                return;
            }
            accepted++;
        }
        reply(response, callback, 202, JSON.createObjectNode().put("accepted", accepted));
    }

    private boolean authorised(Request request) {
        if (expectedAuthorization == null) {
            return true;
        }
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        return given != null && MessageDigest.isEqual(expectedAuthorization, given.getBytes(StandardCharsets.UTF_8));
    }

    /** One line of an NDJSON body, numbered from 1 as an editor shows it. */
    private record Line(int number, byte[] bytes) {}

    /** The non-blank lines of an NDJSON body. */
    private static List<Line> lines(byte[] body) {
        List<Line> lines = new ArrayList<>();
        int start = 0;
        int number = 1;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                int end = i > start && body[i - 1] == '\r' ? i - 1 : i;
                if (!new String(body, start, end - start, StandardCharsets.UTF_8).isBlank()) {
                    lines.add(new Line(number, Arrays.copyOfRange(body, start, end)));
                }
                start = i + 1;
                number++;
            }
        }
        return lines;
    }

    private static void discardAtMost(InputStream in, long limit) throws IOException {
        byte[] buffer = new byte[8192];
        long total = 0;
        int n;
        while (total < limit && (n = in.read(buffer)) > 0) {
            total += n;
        }
    }

    /**
     * The body, or null if it is over {@code limit}. With a declared length (at most the limit, checked
     * before) it is read into an array of exactly that size: no doubling buffer, one copy of the body.
     */
    private static byte[] readAtMost(InputStream in, long declared, long limit) throws IOException {
        if (declared >= 0 && declared <= Integer.MAX_VALUE - 8) {
            byte[] body = in.readNBytes((int) declared);
            return in.read() < 0 ? body : null; // more than declared: refuse rather than guess
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
            out.write(buffer, 0, n);
            if (out.size() > limit) {
                return null;
            }
        }
        return out.toByteArray();
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static void reply(Response response, Callback callback, int status, Object body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        try {
            response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(body)), callback);
        } catch (IOException e) {
            callback.failed(e);
        }
    }
}
