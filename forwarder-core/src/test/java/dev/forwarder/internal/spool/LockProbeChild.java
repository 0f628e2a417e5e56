package dev.forwarder.internal.spool;

import dev.forwarder.ForwarderException;
import java.nio.file.Path;

/** For {@link SpoolLockTest}: another process tries to take a spool's lock and says what happened. */
public final class LockProbeChild {

    private LockProbeChild() {}

    public static void main(String[] args) {
        try (SpoolLock lock = SpoolLock.acquire(Path.of(args[0]))) {
            System.out.println("acquired");
        } catch (ForwarderException e) {
            System.out.println("refused: " + e.getMessage());
        } catch (Exception e) {
            System.out.println("failed: " + e);
        }
    }
}
