package dev.forwarder.app;

import dev.forwarder.ForwarderConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.eclipse.jetty.util.Scanner;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server's certificate ({@code forwarder.http.tls}): a chain and its key in PEM, or a key store, loaded
 * into Jetty's {@link SslContextFactory}, and loaded again when the files change (a certificate renewed by
 * certbot or cert-manager is served without a restart; a renewal that cannot be read is logged and the
 * certificate in use kept). Jetty's {@link Scanner} watches the files.
 */
final class ServerCertificate {

    private static final Logger LOG = LoggerFactory.getLogger(ServerCertificate.class);
    /** The in-memory key store's password for a key read from PEM (it never leaves the process). */
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private final ForwarderConfig.HttpTls tls;
    private final SslContextFactory.Server factory = new SslContextFactory.Server();
    private final Scanner scanner = new Scanner();

    /** Reads the certificate now: a file that cannot be used stops the start, with what is wrong with it. */
    ServerCertificate(ForwarderConfig.HttpTls tls, int scanIntervalSeconds) {
        this.tls = tls;
        factory.setKeyStore(load(tls));
        factory.setKeyManagerPassword(new String(password(tls)));
        factory.setSniRequired(false);
        for (Path file :
                tls.keystoreFile() != null ? List.of(tls.keystoreFile()) : List.of(tls.certFile(), tls.keyFile())) {
            scanner.addFile(file);
        }
        scanner.setScanInterval(scanIntervalSeconds);
        scanner.setReportExistingFilesOnStartup(false);
        scanner.addListener(new Scanner.BulkListener() {
            @Override
            public void pathsChanged(Set<Path> paths) {
                reload();
            }
        });
    }

    SslContextFactory.Server factory() {
        return factory;
    }

    /** The watcher of the files, for the server to start and stop with itself. */
    Scanner scanner() {
        return scanner;
    }

    private void reload() {
        KeyStore next;
        try {
            next = load(tls);
        } catch (IllegalArgumentException e) {
            LOG.warn(
                    "HTTP TLS certificate changed but cannot be used, still serving the previous one: {}",
                    e.getMessage());
            return;
        }
        try {
            factory.reload(f -> f.setKeyStore(next));
            LOG.info("HTTP TLS certificate reloaded: {}", subject(next));
        } catch (Exception e) {
            LOG.warn("HTTP TLS certificate reload failed, still serving the previous one: {}", e.toString());
        }
    }

    private static char[] password(ForwarderConfig.HttpTls tls) {
        return tls.keystoreFile() == null
                ? IN_MEMORY
                : (tls.keystorePassword() == null ? "" : tls.keystorePassword()).toCharArray();
    }

    /** The key store: the file's, or one made in memory from the PEM files. */
    static KeyStore load(ForwarderConfig.HttpTls tls) {
        if (tls.keystoreFile() != null) {
            try {
                return KeyStore.getInstance(tls.keystoreFile().toFile(), password(tls));
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException(
                        "forwarder.http.tls.keystore_file " + tls.keystoreFile() + ": cannot read it as a PKCS12 or JKS"
                                + " key store with forwarder.http.tls.keystore_password (" + e.getMessage() + ")");
            }
        }
        List<Certificate> chain = certificates(tls.certFile());
        PrivateKey key = privateKey(tls.keyFile(), chain.get(0).getPublicKey());
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, IN_MEMORY, chain.toArray(Certificate[]::new));
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot hold the certificate in a key store: " + e, e);
        }
    }

    private static List<Certificate> certificates(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            List<Certificate> chain =
                    new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("forwarder.http.tls.cert_file " + file + " holds no certificate");
            }
            return chain;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "forwarder.http.tls.cert_file " + file + ": not a PEM certificate chain (" + e.getMessage() + ")");
        }
    }

    private static PrivateKey privateKey(Path file, PublicKey certified) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("forwarder.http.tls.key_file " + file + ": cannot read it (" + e + ")");
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf(end);
        if (from < 0 || to < from) {
            String found = pem.contains("ENCRYPTED PRIVATE KEY")
                    ? "an encrypted key: decrypt it (openssl pkcs8 -topk8 -nocrypt) or use"
                            + " forwarder.http.tls.keystore_file"
                    : pem.contains("RSA PRIVATE KEY") || pem.contains("EC PRIVATE KEY")
                            ? "a PKCS#1 or SEC1 key: convert it with openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8"
                            : "no \"" + begin + "\" block";
            throw new IllegalArgumentException("forwarder.http.tls.key_file " + file + ": " + found);
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "forwarder.http.tls.key_file " + file + ": bad Base64 (" + e.getMessage() + ")");
        }
        PrivateKey key;
        try {
            key = KeyFactory.getInstance(certified.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("forwarder.http.tls.key_file " + file + ": not a "
                    + certified.getAlgorithm() + " key as the certificate's (" + e.getMessage() + ")");
        }
        if (!matches(key, certified)) {
            throw new IllegalArgumentException("forwarder.http.tls.key_file " + file
                    + " is not the key of the first certificate in forwarder.http.tls.cert_file");
        }
        return key;
    }

    /** Whether {@code key} signs what {@code certified} verifies. */
    private static boolean matches(PrivateKey key, PublicKey certified) {
        String algorithm = switch (certified.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> certified.getAlgorithm(); // Ed25519, Ed448
        };
        try {
            byte[] probe = "forwarder".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certified);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String subject(KeyStore store) {
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (store.getCertificate(alias) instanceof X509Certificate x509) {
                    return x509.getSubjectX500Principal().getName() + ", valid until "
                            + x509.getNotAfter().toInstant();
                }
            }
        } catch (GeneralSecurityException e) {
            // only for the log line
        }
        return "(no certificate)";
    }
}
