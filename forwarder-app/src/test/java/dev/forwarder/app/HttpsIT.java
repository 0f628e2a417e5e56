package dev.forwarder.app;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.testkit.Ports;
import dev.forwarder.testkit.Records;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP ingest over TLS ({@code forwarder.http.tls}), with real certificates made by openssl and a real TLS
 * client (curl): the right CA is trusted, a wrong one is refused, plain HTTP gets no answer, a renewed
 * certificate is served without a restart, and an open host without TLS does not start.
 */
class HttpsIT {

    private static final String TOKEN = "https-it-token";

    /** openssl and curl, installed with apt-get (as root) when missing; a clear failure when that is impossible. */
    @BeforeAll
    static void tools() throws Exception {
        for (String tool : new String[] {"openssl", "curl"}) {
            if (!Files.isExecutable(Path.of("/usr/bin/" + tool))) {
                new ProcessBuilder("apt-get", "install", "-y", "-q", tool)
                        .inheritIO()
                        .start()
                        .waitFor(600, TimeUnit.SECONDS);
                assertTrue(
                        Files.isExecutable(Path.of("/usr/bin/" + tool)),
                        tool + " is missing and apt-get could not install it");
            }
        }
    }

    /** What curl did: its exit code (0 for any HTTP answer) and the status it printed. */
    private record Curl(int exit, String status, String stderr) {}

    @Test
    void servesTheCertificateOfItsPemFilesAndTheRenewedOneWithoutARestart(@TempDir Path dir) throws Exception {
        Path ca1 = authority(dir, "ca1");
        Path ca2 = authority(dir, "ca2");
        Path cert = dir.resolve("server.pem");
        Path key = dir.resolve("server.key");
        serverCertificate(dir, "ca1", cert, key);
        int port = Ports.unused();
        Path config = Files.writeString(
                dir.resolve("forwarder.conf"),
                "gateway.observability.kafka { brokers = \"127.0.0.1:" + Ports.unused() + "\","
                        + " startup.require_connection = false, spool { dir = \"" + dir.resolve("spool")
                        + "\", drain_timeout_ms = 500 } }\n"
                        + "forwarder.http { port = " + port + ", token = \"" + TOKEN + "\", tls { cert_file = \""
                        + cert + "\", key_file = \"" + key + "\" } }\n");
        Process app = ForwarderJar.run(config, dir.resolve("app.log"), List.of());
        try {
            String base = "https://127.0.0.1:" + port;
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> curl(dir, ca1, base + "/health/live").status().equals("200"));

            Path event = Files.writeString(
                    dir.resolve("event.json"),
                    "{\"id\":\"" + Records.id(UUID.randomUUID(), 1) + "\",\"inference_id\":\""
                            + Records.id(UUID.randomUUID(), 2) + "\",\"input_tokens\":3}");
            Curl posted = curl(
                    dir,
                    ca1,
                    base + "/v1/events/model_inference",
                    "-H",
                    "Authorization: Bearer " + TOKEN,
                    "-H",
                    "Content-Type: application/json",
                    "--data-binary",
                    "@" + event);
            assertEquals("202", posted.status(), posted.stderr());

            Curl wrongCa = curl(dir, ca2, base + "/health/live");
            assertEquals(60, wrongCa.exit(), "curl: peer certificate cannot be authenticated: " + wrongCa.stderr());

            Curl plain = curl(dir, ca1, "http://127.0.0.1:" + port + "/health/live");
            assertNotEquals("200", plain.status(), "plain HTTP on the TLS port is not served");

            // Renewed by another CA, as certbot would: new files moved over the old ones.
            Path renewedCert = dir.resolve("renewed.pem");
            Path renewedKey = dir.resolve("renewed.key");
            serverCertificate(dir, "ca2", renewedCert, renewedKey);
            Files.move(renewedKey, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(renewedCert, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> curl(dir, ca2, base + "/health/live").status().equals("200"));
            assertEquals(60, curl(dir, ca1, base + "/health/live").exit(), "the old CA no longer vouches for it");
            assertTrue(app.isAlive());
            String log = Files.readString(dir.resolve("app.log"));
            assertTrue(log.contains("HTTP TLS certificate reloaded"), log);
            assertTrue(log.contains("HTTP on https://127.0.0.1:" + port), log);
        } finally {
            app.destroy();
            assertTrue(app.waitFor(60, TimeUnit.SECONDS));
        }
        assertEquals(0, app.exitValue(), Files.readString(dir.resolve("app.log")));
    }

    @Test
    void anOpenHostWithoutTlsOrAKeyThatIsNotTheCertificatesDoesNotStart(@TempDir Path dir) throws Exception {
        Path plain = Files.writeString(
                dir.resolve("plain.conf"),
                "gateway.observability.kafka { brokers = \"127.0.0.1:" + Ports.unused() + "\","
                        + " startup.require_connection = false, spool.dir = \"" + dir.resolve("spool") + "\" }\n"
                        + "forwarder.http { host = \"0.0.0.0\", port = " + Ports.unused() + ", token = \"" + TOKEN
                        + "\" }\n");
        String out = runToTheEnd(dir, plain);
        assertTrue(
                out.contains("forwarder.http.host: invalid value \"0.0.0.0\"")
                        && out.contains("forwarder.http.tls.cert_file")
                        && out.contains("forwarder.http.allow_plaintext"),
                out);
        assertFalse(out.contains(TOKEN), "the token is never shown");

        authority(dir, "ca1");
        Path cert = dir.resolve("server.pem");
        Path key = dir.resolve("server.key");
        serverCertificate(dir, "ca1", cert, key);
        Path otherKey = dir.resolve("other.key");
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherKey.toString());
        Path mismatched = Files.writeString(
                dir.resolve("mismatched.conf"),
                "gateway.observability.kafka { brokers = \"127.0.0.1:" + Ports.unused() + "\","
                        + " startup.require_connection = false, spool.dir = \"" + dir.resolve("spool") + "\" }\n"
                        + "forwarder.http { port = " + Ports.unused() + ", tls { cert_file = \"" + cert
                        + "\", key_file = \"" + otherKey + "\" } }\n");
        out = runToTheEnd(dir, mismatched);
        assertTrue(
                out.contains("forwarder.http.tls.key_file " + otherKey + " is not the key of the first certificate"),
                out);
    }

    private static String runToTheEnd(Path dir, Path config) throws Exception {
        Path log = dir.resolve("run-" + config.getFileName() + ".log");
        Process run = ForwarderJar.command("run", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "it did not stop");
        String out = Files.readString(log);
        assertNotEquals(0, run.exitValue(), out);
        return out;
    }

    /** A CA: {@code name}.key and the self-signed {@code name}.pem. */
    private static Path authority(Path dir, String name) throws Exception {
        Path pem = dir.resolve(name + ".pem");
        openssl(
                dir,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                dir.resolve(name + ".key").toString(),
                "-out",
                pem.toString(),
                "-days",
                "2",
                "-subj",
                "/CN=" + name + " test CA");
        return pem;
    }

    /** A server certificate for 127.0.0.1 and localhost signed by the CA {@code ca}; the key in PKCS#8 PEM. */
    private static void serverCertificate(Path dir, String ca, Path cert, Path key) throws Exception {
        Path csr = dir.resolve("server.csr");
        openssl(
                dir,
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                key.toString(),
                "-out",
                csr.toString(),
                "-subj",
                "/CN=localhost");
        Path ext = Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl(
                dir,
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                dir.resolve(ca + ".pem").toString(),
                "-CAkey",
                dir.resolve(ca + ".key").toString(),
                "-CAcreateserial",
                "-out",
                cert.toString(),
                "-days",
                "2",
                "-extfile",
                ext.toString());
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + "\n" + out);
    }

    private static Curl curl(Path dir, Path ca, String url, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                "curl", "-sS", "--max-time", "10", "--cacert", ca.toString(), "-o", "/dev/null", "-w", "%{http_code}"));
        command.addAll(List.of(extra));
        command.add(url);
        Process p = new ProcessBuilder(command).directory(dir.toFile()).start();
        String status = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return new Curl(p.exitValue(), status, stderr);
    }
}
