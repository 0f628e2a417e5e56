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
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;

/**
 * The forwarder's HTTP interface, on Jetty 12, over TLS with {@code forwarder.http.tls} ({@link ServerCertificate}):
 *
 * <pre>
 *   POST /v1/events/{data_type}   one JSON object (application/json) or many (application/x-ndjson)
 *                                 202 {"accepted": n}; all or nothing: an invalid line, or no room in the
 *                                 spool for the whole body, appends nothing
 *                                 400 names the line and the field; 404 unknown data type; 413 body too
 *                                 large, or a record larger than its topic takes (naming the limit);
 *                                 503 + Retry-After when the spool refuses or more than
 *                                 max_concurrent requests are in progress; 401 without the token
 *                                 Idempotency-Key: a body sent again under its key is answered again,
 *                                 not appended again (409 while in progress, 422 with another body)
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

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /** How often the certificate's files are looked at for a change (a change is taken once it is stable). */
    static final int CERTIFICATE_SCAN_SECONDS = 1;

    static final String IDEMPOTENT_REPLAYED = "Idempotent-Replayed";
    private static final ObjectMapper JSON =
            new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private final Forwarder forwarder;
    private final ForwarderConfig.Http settings;
    private final Server server;
    private final byte[] expectedAuthorization;
    private final Semaphore ingestSlots;
    private final IdempotencyKeys idempotency = new IdempotencyKeys();
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
        ServerConnector connector;
        if (settings.tls() == null) {
            connector = new ServerConnector(server);
        } else {
            ServerCertificate certificate = new ServerCertificate(settings.tls(), CERTIFICATE_SCAN_SECONDS);
            HttpConfiguration https = new HttpConfiguration();
            // The client checks the name it asked for against the certificate; the server need not.
            https.addCustomizer(new SecureRequestCustomizer(false));
            connector = new ServerConnector(
                    server,
                    new SslConnectionFactory(certificate.factory(), HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(https));
            server.addBean(certificate.scanner());
        }
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
        if (ndjson) {
            long lines = lineCount(body);
            long maxLines = maxLines(settings.maxBodyBytes());
            if (lines > maxLines) {
                reply(
                        response,
                        callback,
                        413,
                        error("body of " + lines + " lines is over the limit of " + maxLines + " lines (one per "
                                + BYTES_PER_LINE + " bytes of forwarder.http.max_body_bytes): each record held"
                                + " for its check and append costs the heap a few dozen bytes besides itself;"
                                + " send fewer, larger records a body"));
                return;
            }
        }
        // All or nothing: every record is checked before any is appended.
        List<byte[]> records = new ArrayList<>();
        String refusal = ndjson ? checkLines(dataType, body, records) : checkOne(dataType, body, records);
        if (refusal != null) {
            reply(response, callback, 400, error(refusal));
            return;
        }
        if (records.isEmpty()) {
            reply(response, callback, 400, error("the body holds no record"));
            return;
        }
        String key = request.getHeaders().get(IDEMPOTENCY_KEY);
        IdempotencyKeys.Proceed claim = null;
        if (key != null) {
            String invalid = IdempotencyKeys.invalid(key);
            if (invalid != null) {
                reply(response, callback, 400, error(invalid));
                return;
            }
            IdempotencyKeys.Claim taken = idempotency.claim(key, digest(dataType, body), System.currentTimeMillis());
            if (taken instanceof IdempotencyKeys.InProgress) {
                reply(response, callback, 409, error("a request with this Idempotency-Key is in progress"));
                return;
            }
            if (taken instanceof IdempotencyKeys.Mismatch) {
                reply(
                        response,
                        callback,
                        422,
                        error("this Idempotency-Key was used for another body; a key names one body"));
                return;
            }
            if (taken instanceof IdempotencyKeys.Answered answered) {
                response.getHeaders().put(IDEMPOTENT_REPLAYED, "true");
                replyBytes(response, callback, answered.status(), answered.body());
                return;
            }
            claim = (IdempotencyKeys.Proceed) taken;
        }
        int from = claim == null ? 0 : claim.from();
        List<byte[]> todo = records.subList(from, records.size());
        // All or nothing: room for the whole body is taken before its first line is appended.
        List<PublishResult> results = forwarder.publishAll(dataType, todo);
        int appended = from;
        PublishResult refused = null;
        Map<PublishResult.Status, Integer> fates = new EnumMap<>(PublishResult.Status.class);
        for (PublishResult result : results) {
            if (result.accepted()) {
                appended++;
                fates.merge(result.status(), 1, Integer::sum);
            } else if (refused == null) {
                refused = result;
            }
        }
        if (refused != null) {
            if (claim != null) {
                idempotency.release(claim, appended);
            }
            if (refused.status() == PublishResult.Status.DROPPED_TOO_LARGE) {
                // Never deliverable as it is: no Retry-After. All or nothing, so nothing of the body was appended.
                ObjectNode body413 = error("not accepted: " + refused.detail());
                body413.put("accepted", appended);
                reply(response, callback, 413, body413);
                return;
            }
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "5");
            ObjectNode body503 = error((appended == 0
                            ? "not accepted: "
                            : "lines 1 to " + appended + " are in the spool, the rest not (retry with the"
                                    + " same Idempotency-Key to send only the rest): ")
                    + refused.status()
                    + (refused.detail() == null ? "" : " (" + refused.detail() + ")"));
            body503.put("accepted", appended);
            reply(response, callback, 503, body503);
            return;
        }
        ObjectNode answer = JSON.createObjectNode().put("accepted", appended);
        if (!fates.keySet().equals(Set.of(PublishResult.Status.ACCEPTED))) {
            // async_writes = false: what Kafka did with each line (a dead-lettered line is not delivered).
            fates.forEach((status, count) -> answer.put(status.name().toLowerCase(Locale.ROOT), count));
        }
        byte[] bytes = JSON.writeValueAsBytes(answer);
        if (claim != null) {
            idempotency.finish(claim, 202, bytes);
        }
        replyBytes(response, callback, 202, bytes);
    }

    /** The body's identity for its Idempotency-Key: SHA-256 of the data type and the bytes. */
    private static byte[] digest(DataType type, byte[] body) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(type.wireName().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            return sha.digest(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private boolean authorised(Request request) {
        if (expectedAuthorization == null) {
            return true;
        }
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        return given != null && MessageDigest.isEqual(expectedAuthorization, given.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * An NDJSON body may hold one line per this many bytes of {@code max_body_bytes} (163,840 lines for 10
     * MiB): each record held from its check to its append costs the heap its copy, a reference and its result
     * (about 60 bytes besides itself), so that a body of millions of tiny lines would take many times its size
     * (8 MiB of "{}" lines ran a 96 MiB heap out of memory).
     */
    static final int BYTES_PER_LINE = 64;

    static long maxLines(long maxBodyBytes) {
        return Math.max(1, maxBodyBytes / BYTES_PER_LINE);
    }

    /** Lines of a body: its line feeds, and one more if it does not end with one. */
    private static long lineCount(byte[] body) {
        long lines = 0;
        for (byte b : body) {
            if (b == '\n') {
                lines++;
            }
        }
        return body.length > 0 && body[body.length - 1] != '\n' ? lines + 1 : lines;
    }

    /** Checks a one-record body; adds it to {@code out} if valid, else returns why not. */
    private String checkOne(DataType dataType, byte[] body, List<byte[]> out) {
        Optional<String> invalid = forwarder.check(dataType, body);
        if (invalid.isPresent()) {
            return invalid.get();
        }
        out.add(body);
        return null;
    }

    /**
     * Checks the non-blank lines of an NDJSON body in order, adding each valid one to {@code out}; returns why
     * the first invalid one is not (naming its line, numbered from 1 as an editor shows it), or null. A line is
     * kept only once it passed its check: an invalid line costs nothing after it.
     */
    private String checkLines(DataType dataType, byte[] body, List<byte[]> out) {
        int start = 0;
        int number = 1;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                int end = i > start && body[i - 1] == '\r' ? i - 1 : i;
                if (!blank(body, start, end)) {
                    byte[] line = Arrays.copyOfRange(body, start, end);
                    Optional<String> invalid = forwarder.check(dataType, line);
                    if (invalid.isPresent()) {
                        return "line " + number + ": " + invalid.get();
                    }
                    out.add(line);
                }
                start = i + 1;
                number++;
            }
        }
        return null;
    }

    /** Whether {@code body[start, end)} is JSON whitespace only (spaces, tabs, carriage returns). */
    private static boolean blank(byte[] body, int start, int end) {
        for (int i = start; i < end; i++) {
            byte b = body[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
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
        try {
            replyBytes(response, callback, status, JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            callback.failed(e);
        }
    }

    private static void replyBytes(Response response, Callback callback, int status, byte[] json) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(json), callback);
    }
}
