package dev.forwarder.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Certificates for TLS tests, made with the JDK's own keytool (no other tool or library): a CA, and a
 * broker key store whose certificate that CA signed for 127.0.0.1 and localhost.
 */
public final class TestCertificates {

    /** The password of every store made here (test material only). */
    public static final String PASSWORD = "test-store-secret";

    private TestCertificates() {}

    /** Makes {@code dir/ca.p12} and {@code dir/ca.pem}: a self-signed CA named {@code cn}. */
    public static Path ca(Path dir, String cn) throws IOException {
        Files.createDirectories(dir);
        keytool(
                "-genkeypair",
                "-alias",
                "ca",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-dname",
                "CN=" + cn,
                "-ext",
                "bc:c",
                "-validity",
                "3650",
                "-keystore",
                dir.resolve("ca.p12").toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD);
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                dir.resolve("ca.p12").toString(),
                "-storepass",
                PASSWORD,
                "-file",
                dir.resolve("ca.pem").toString());
        return dir.resolve("ca.pem");
    }

    /**
     * Makes a CA in {@code dir}, {@code dir/broker.p12} (a key store with a certificate it signed) and
     * {@code dir/ca-trust.p12} (a trust store with only the CA, as a JVM's {@code javax.net.ssl.trustStore}).
     */
    public static void brokerKeystore(Path dir) throws IOException {
        ca(dir, "forwarder-test-ca");
        String store = dir.resolve("broker.p12").toString();
        String san = "SAN=dns:localhost,ip:127.0.0.1";
        keytool(
                "-genkeypair",
                "-alias",
                "broker",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-dname",
                "CN=localhost",
                "-ext",
                san,
                "-validity",
                "3650",
                "-keystore",
                store,
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD);
        keytool(
                "-certreq",
                "-alias",
                "broker",
                "-keystore",
                store,
                "-storepass",
                PASSWORD,
                "-file",
                dir.resolve("broker.csr").toString());
        keytool(
                "-gencert",
                "-alias",
                "ca",
                "-keystore",
                dir.resolve("ca.p12").toString(),
                "-storepass",
                PASSWORD,
                "-infile",
                dir.resolve("broker.csr").toString(),
                "-outfile",
                dir.resolve("broker.pem").toString(),
                "-rfc",
                "-ext",
                san,
                "-validity",
                "3650");
        keytool(
                "-importcert",
                "-alias",
                "ca",
                "-file",
                dir.resolve("ca.pem").toString(),
                "-keystore",
                store,
                "-storepass",
                PASSWORD,
                "-noprompt");
        keytool(
                "-importcert",
                "-alias",
                "broker",
                "-file",
                dir.resolve("broker.pem").toString(),
                "-keystore",
                store,
                "-storepass",
                PASSWORD,
                "-noprompt");
        keytool(
                "-importcert",
                "-alias",
                "ca",
                "-file",
                dir.resolve("ca.pem").toString(),
                "-keystore",
                dir.resolve("ca-trust.p12").toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD,
                "-noprompt");
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
