package dev.forwarder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

    /**
     * The demo's embedded Kafka takes a listener and a controller port; drawn one after the other, the kernel
     * may hand the port just freed out again, and a broker with one port for both does not start ("If you have
     * two listeners on the same port then one needs to be IPv4 and the other IPv6").
     */
    @Test
    void portsForTheEmbeddedKafkaAreAllDifferent() throws Exception {
        for (int round = 0; round < 10; round++) {
            int[] ports = DemoCommand.freePorts(200);
            assertEquals(200, Arrays.stream(ports).distinct().count(), "a port given twice: " + Arrays.toString(ports));
        }
    }
}
