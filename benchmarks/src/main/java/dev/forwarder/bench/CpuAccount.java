package dev.forwarder.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;
import java.util.function.LongUnaryOperator;
import java.util.stream.Collectors;

/**
 * The CPU a run costs in every thread of this JVM but the caller's: the process's CPU time less the calling
 * thread's, over the run, per call. That is what a request path leaves to the rest of a small machine: the
 * forwarder thread, the pretoucher, the producer's I/O thread, the spool guard, and the JVM's own threads (GC,
 * JIT, the VM thread: not Java threads, read from Linux, each as {@code jvm:} and its Linux name, such as
 * {@code jvm:GC Thread#}, {@code jvm:G1 Refine#}, {@code jvm:C2 CompilerThre}).
 *
 * <p>Per Java thread, grouped by name without digits (so {@code kafka-producer-network-thread | producer-3}
 * and {@code -4} are one line). A thread that ended during the run is in the process's total and in
 * {@code native (other, ended threads)}, not under its own name.
 */
final class CpuAccount {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final long caller = Thread.currentThread().getId();
    private final long processStart = OS.getProcessCpuTime();
    private final long callerStart = THREADS.getCurrentThreadCpuTime();
    private final Map<Long, Long> cpuStart = perThread(THREADS::getThreadCpuTime);
    private final Map<Long, Long> allocatedStart = perThread(THREADS::getThreadAllocatedBytes);
    private final long[] gcStart = gc();
    private final long[] schedStart = schedstat();
    private final Map<String, Long> jvmThreadsStart = jvmThreads();

    /**
     * The JVM's own threads (not Java threads: GC, JIT, the VM thread), each its Linux name and id ("GC Thread#0
     * 4711") and time on a core (ns): field 1 of {@code /proc/self/task/<tid>/schedstat}; empty elsewhere. A
     * thread that ended is not in it (the JIT starts and ends compiler threads as it needs them).
     */
    private static Map<String, Long> jvmThreads() {
        Map<String, Long> byThread = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim();
                    if (!name.matches("(GC Thread|G1 |C1 Compil|C2 Compil|VM |Sweeper).*")) {
                        continue;
                    }
                    String[] f =
                            Files.readString(task.resolve("schedstat")).trim().split("\\s+");
                    byThread.put(name + " " + task.getFileName(), Long.parseLong(f[0]));
                } catch (IOException | RuntimeException e) {
                    // ended meanwhile
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return byThread;
    }

    /** A reading of every live thread (those the JVM can read it of: a negative value is none). */
    private static Map<Long, Long> perThread(LongUnaryOperator reading) {
        Map<Long, Long> values = new HashMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            long value = reading.applyAsLong(id);
            if (value >= 0) {
                values.put(id, value);
            }
        }
        return values;
    }

    /** Collections and their total time (ms), over every collector. */
    private static long[] gc() {
        long count = 0;
        long ms = 0;
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, bean.getCollectionCount());
            ms += Math.max(0, bean.getCollectionTime());
        }
        return new long[] {count, ms};
    }

    /**
     * The calling thread's time on a run queue, waiting for a core while runnable (ns), and its time slices:
     * fields 2 and 3 of Linux's {@code /proc/thread-self/schedstat}; zeros elsewhere.
     */
    private static long[] schedstat() {
        try {
            String[] f = Files.readString(Path.of("/proc/thread-self/schedstat"))
                    .trim()
                    .split("\\s+");
            return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    /**
     * Call on the thread that made the calls, right after the last one.
     *
     * @param inCalls the caller's time inside the calls (wall time, ns): its own work per call, which its CPU
     *     does not tell where it spins between calls
     */
    String report(long calls, long inCalls) {
        long process = OS.getProcessCpuTime() - processStart;
        long callerCpu = THREADS.getCurrentThreadCpuTime() - callerStart;
        long background = process - callerCpu;
        Map<String, Long> cpuByGroup = new TreeMap<>();
        Map<String, Long> allocatedByGroup = new TreeMap<>();
        long javaThreads = 0;
        for (long id : THREADS.getAllThreadIds()) {
            long cpu = THREADS.getThreadCpuTime(id);
            ThreadInfo info = THREADS.getThreadInfo(id);
            if (id == caller || cpu < 0 || info == null) {
                continue;
            }
            String group = info.getThreadName().replaceAll("[0-9]+", "#");
            long used = cpu - cpuStart.getOrDefault(id, 0L);
            javaThreads += used;
            cpuByGroup.merge(group, used, Long::sum);
            long bytes = THREADS.getThreadAllocatedBytes(id);
            if (bytes >= 0) {
                allocatedByGroup.merge(group, bytes - allocatedStart.getOrDefault(id, 0L), Long::sum);
            }
        }
        long jvmOwn = 0;
        for (Map.Entry<String, Long> thread : jvmThreads().entrySet()) {
            long used = thread.getValue() - jvmThreadsStart.getOrDefault(thread.getKey(), 0L);
            jvmOwn += used;
            String name = thread.getKey().substring(0, thread.getKey().lastIndexOf(' '));
            cpuByGroup.merge("jvm:" + name.replaceAll("#[0-9]+$", "#"), used, Long::sum); // GC Thread#0, #1: one
        }
        cpuByGroup.put("native (other, ended threads)", background - javaThreads - jvmOwn);
        long callerBytes = THREADS.getThreadAllocatedBytes(caller) - allocatedStart.getOrDefault(caller, 0L);
        long[] gcEnd = gc();
        long[] schedEnd = schedstat();
        return String.format(
                "cpu/call: caller %.2fus (in the calls %.2fus), background %.2fus [%s]; in the calls and"
                        + " background %.2fus; bytes/call: caller %d, others [%s];"
                        + " gc %d collections, %d ms; caller waited for a core %d ms in %d slices",
                callerCpu / 1000.0 / calls,
                inCalls / 1000.0 / calls,
                background / 1000.0 / calls,
                largest(cpuByGroup, calls * 50L, v -> String.format("%.2f", v / 1000.0 / calls)), // 0.05 µs/call up
                (inCalls + background) / 1000.0 / calls,
                callerBytes / calls,
                largest(allocatedByGroup, calls, v -> Long.toString(v / calls)), // 1 B per call and more
                gcEnd[0] - gcStart[0],
                gcEnd[1] - gcStart[1],
                (schedEnd[0] - schedStart[0]) / 1_000_000,
                schedEnd[1] - schedStart[1]);
    }

    /** The groups of at least {@code min}, largest first: "name value; name value". */
    private static String largest(Map<String, Long> byGroup, long min, LongFunction<String> value) {
        return byGroup.entrySet().stream()
                .filter(e -> e.getValue() >= min)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .map(e -> e.getKey() + " " + value.apply(e.getValue()))
                .collect(Collectors.joining("; "));
    }
}
