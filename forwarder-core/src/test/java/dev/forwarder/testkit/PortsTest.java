package dev.forwarder.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {

    /**
     * A broker takes two ports drawn one after the other (its listener and its controller), a cluster six, a
     * test a closed one for "nothing answers" beside them: the kernel hands a port just freed out again (on
     * this machine the first repeat came within ten draws), and a broker given one port twice would not start.
     */
    @Test
    void neverHandsOutOnePortTwice() {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            ports.add(Ports.unused());
        }
        Set<Integer> seen = new HashSet<>();
        List<Integer> again = ports.stream().filter(p -> !seen.add(p)).toList();
        assertEquals(List.of(), again, "ports handed out twice in 500 draws");
    }
}
