package dev.forwarder.app;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * Waits for SIGTERM or SIGINT, so that the main thread can stop in order (stop accepting, drain, persist
 * the checkpoint) and exit 0, rather than racing shutdown hooks.
 */
final class Shutdown {

    private final CountDownLatch signalled = new CountDownLatch(1);

    Shutdown() {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> signalled.countDown());
        }
    }

    void await() throws InterruptedException {
        signalled.await();
    }

    boolean signalled() {
        return signalled.getCount() == 0;
    }
}
