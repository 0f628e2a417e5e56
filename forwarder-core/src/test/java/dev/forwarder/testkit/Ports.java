package dev.forwarder.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Loopback ports for tests. */
public final class Ports {

    /**
     * Every port handed out in this JVM. The kernel gives a port just freed out again soon (here the first
     * repeat came within ten draws, one draw in 20,000 repeated the one before it): a broker given the same
     * port for its listener and its controller did not start, and a test's closed port could be a broker's.
     */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private Ports() {}

    /**
     * A loopback port nothing listens on (just freed), never one this JVM was given before: a Kafka address
     * that does not answer, or one for a process to listen on.
     */
    public static int unused() {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (GIVEN.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no loopback port this JVM was not given already, in 1,000 draws");
    }
}
