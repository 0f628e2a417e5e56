package dev.forwarder.testkit;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What this JVM holds, for tests and benchmarks that check nothing accumulates or is let go: live heap, open
 * files, mapped files.
 */
public final class JvmResources {

    private JvmResources() {}

    /** The heap in use after asking for a full collection (the least of three tries, so garbage is out). */
    public static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(
                    used,
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /** How many file descriptors this process has open (Linux: {@code /proc/self/fd}). */
    public static long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Whether this process holds {@code file} open (Linux: {@code /proc/self/fd}). */
    public static boolean holdsOpen(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            });
        }
    }

    /** Whether this process maps {@code file} (Linux: {@code /proc/self/maps}). */
    public static boolean maps(Path file) throws IOException {
        String path = file.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(line -> line.endsWith(path));
    }
}
