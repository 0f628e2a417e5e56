package dev.forwarder.internal.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ForwarderRunnerTest {

    /** The idle park follows linger_ms: never a busy thread (50 µs at least), never more than 1 ms of delay. */
    @Test
    void theIdleParkIsLingerWithinFiftyMicrosecondsAndOneMillisecond() {
        assertEquals(TimeUnit.MICROSECONDS.toNanos(50), ForwarderRunner.idleParkNanos(0));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), ForwarderRunner.idleParkNanos(1));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), ForwarderRunner.idleParkNanos(10));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), ForwarderRunner.idleParkNanos(3_600_000));
    }
}
