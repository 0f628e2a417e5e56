package dev.forwarder.internal.kafka;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Optional;

/**
 * Tells a listener without TLS from one that is down, for the one failure Kafka's client cannot explain:
 * a TLS client meeting a plaintext listener sees the broker close every connection and reports only a
 * time-out. The probe sends a plaintext {@code ApiVersions} request (which a broker answers before any SASL
 * exchange); an answer with our correlation id means the listener speaks Kafka without TLS.
 *
 * <p>Nothing secret is sent: the request carries no client id and no credentials.
 */
final class PlaintextProbe {

    private static final short API_VERSIONS = 18;
    private static final int CORRELATION_ID = 0x7a5e_11e5;
    private static final int MAX_BROKERS = 3;

    private PlaintextProbe() {}

    /** The first of (at most three of) {@code brokers} that answers Kafka requests without TLS, if any. */
    static Optional<String> firstAnsweringWithoutTls(String brokers, int timeoutMs) {
        String[] entries = brokers.split(",");
        for (int i = 0; i < entries.length && i < MAX_BROKERS; i++) {
            String broker = entries[i].trim();
            if (answersWithoutTls(broker, timeoutMs)) {
                return Optional.of(broker);
            }
        }
        return Optional.empty();
    }

    private static boolean answersWithoutTls(String broker, int timeoutMs) {
        int colon = broker.lastIndexOf(':');
        if (colon < 1) {
            return false;
        }
        String host = broker.substring(0, colon).replace("[", "").replace("]", "");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, Integer.parseInt(broker.substring(colon + 1))), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(10); // size of what follows
            out.writeShort(API_VERSIONS); // request header v1: api key,
            out.writeShort(0); // api version,
            out.writeInt(CORRELATION_ID); // correlation id,
            out.writeShort(-1); // client id: null
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int size = in.readInt();
            return size >= 4 && in.readInt() == CORRELATION_ID;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
