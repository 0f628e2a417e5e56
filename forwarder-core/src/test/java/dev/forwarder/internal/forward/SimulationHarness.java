package dev.forwarder.internal.forward;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * What both seeded simulations do around a run: the seeds ({@code -Dsim.seeds=N}, or one seed replayed with
 * {@code -Dsim.seed=N}), a thread and a directory per seed, the core's log lines off, and a failure that
 * names its seed.
 */
final class SimulationHarness {

    /** One seeded run in a directory of its own. */
    interface Run {
        void run(long seed, Path dir) throws Exception;
    }

    private SimulationHarness() {}

    /**
     * For a third of the seeds, a producer {@code buffer.memory} of 600 to 3,000 bytes, so that the window's
     * (and a transaction's) bound in bytes, half of it, fills at 1 to 6 records of the simulation's 50 to 450
     * bytes, before the bound in records does; empty otherwise. Drawn from a generator of its own, so that the
     * rest of each seed's run stays what it was.
     */
    static String smallBufferMemory(long seed) {
        Random own = new Random(~seed);
        return own.nextInt(3) == 0 ? ", producer { \"buffer.memory\" = \"" + (600 + own.nextInt(2401)) + "\" }" : "";
    }

    /**
     * Runs {@code -Dsim.seed} alone if given, else seeds 1 to {@code seeds}, each on a thread of its own (Chronicle
     * keeps per-thread state for every roll file a thread touched, released when the thread ends; on one
     * thread, thousands of runs would make each new roll file slower than the last).
     *
     * @param share how many of every 1,000 {@code -Dsim.seeds} (default 1,000) this simulation runs
     */
    static void runSeeds(String name, Path tmp, int share, Run run) throws Exception {
        Path memory = inMemory(tmp);
        try {
            runSeedsIn(name, memory, share, run);
        } finally {
            if (!memory.equals(tmp)) {
                deleteTree(memory);
            }
        }
    }

    /**
     * A directory on a memory file system (/dev/shm) if the machine has one, else {@code tmp}. The simulations
     * model the disk themselves (DiskImage: what an OS crash keeps), so the product's fsyncs and msyncs are
     * only time on a real disk (thousands of roll files a run, each new cycle forced); on a tmpfs they cost
     * nothing, and the seeds run several times faster. The code run is the same.
     */
    private static Path inMemory(Path tmp) {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            try {
                return Files.createTempDirectory(shm, "forwarder-sim-");
            } catch (IOException e) {
                return tmp;
            }
        }
        return tmp;
    }

    private static void runSeedsIn(String name, Path tmp, int share, Run run) throws Exception {
        String one = System.getProperty("sim.seed");
        if (one != null) {
            runOne(name, tmp, Long.parseLong(one), run);
            return;
        }
        int seeds = (int) ((long) Integer.getInteger("sim.seeds", 1000) * share / 1000);
        long start = System.nanoTime();
        // Thousands of runs full of faults: the core's own log lines would bury the one that matters.
        Logger core = (Logger) LoggerFactory.getLogger("dev.forwarder");
        Level before = core.getLevel();
        core.setLevel(Level.OFF);
        try {
            for (long seed = 1; seed <= seeds; seed++) {
                runOne(name, tmp, seed, run);
                if (seed % 1000 == 0) {
                    System.out.printf("%s: %d seeds in %d ms%n", name, seed, millisSince(start));
                }
            }
        } finally {
            core.setLevel(before);
        }
        System.out.printf("%s: %d seeds passed in %d ms%n", name, seeds, millisSince(start));
    }

    private static void runOne(String name, Path tmp, long seed, Run run) throws Exception {
        Throwable[] failure = new Throwable[1];
        Path dir = tmp.resolve("seed-" + seed);
        Thread runner = new Thread(
                () -> {
                    try {
                        run.run(seed, dir);
                    } catch (Throwable e) {
                        failure[0] = new AssertionError(
                                name + " seed " + seed + " failed (replay: -Dsim.seed=" + seed + "): " + e.getMessage(),
                                e);
                    } finally {
                        deleteTree(dir);
                    }
                },
                name + "-seed-" + seed);
        runner.start();
        runner.join();
        if (failure[0] instanceof Error e) {
            throw e;
        }
    }

    private static long millisSince(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The simulated clock: nanoseconds for the forwarder, epoch milliseconds for the spool's roll files. */
    static final class Clock {
        private static final long EPOCH_BASE_MS = 1_800_000_000_000L;
        private long nanos = TimeUnit.SECONDS.toNanos(1);

        long now() {
            return nanos;
        }

        long epochMillis() {
            return EPOCH_BASE_MS + TimeUnit.NANOSECONDS.toMillis(nanos);
        }

        void advance(long amount, TimeUnit unit) {
            nanos += unit.toNanos(amount);
        }
    }
}
