package dev.forwarder.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * The CPU a throughput run costs the machine: this JVM's (every thread: the caller, the forwarder, the producer,
 * GC, JIT) and the broker's child process's, per record, and how many of the machine's cores that kept busy over
 * the run's wall time. Where the run keeps every core busy, records per second can only grow by the CPU per
 * record shrinking, whatever does the work on which thread.
 */
final class MachineCpu {

    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final long brokerPid;
    private final long wallStart = System.nanoTime();
    private final long jvmStart = OS.getProcessCpuTime();
    private final long brokerStart;

    MachineCpu(long brokerPid) {
        this.brokerPid = brokerPid;
        this.brokerStart = brokerCpu(brokerPid);
    }

    /** The broker process's CPU time so far (ns), or -1 when it cannot be read. */
    private static long brokerCpu(long pid) {
        return ProcessHandle.of(pid)
                .flatMap(p -> p.info().totalCpuDuration())
                .map(Duration::toNanos)
                .orElse(-1L);
    }

    /** Call right after the run: one line, printed and appended to {@code benchmarks/results/latest/<file>}. */
    void report(String file, String what, long records) throws IOException {
        long wall = System.nanoTime() - wallStart;
        long jvm = OS.getProcessCpuTime() - jvmStart;
        long brokerEnd = brokerCpu(brokerPid);
        if (brokerStart < 0 || brokerEnd < 0) {
            BenchmarkBroker.report(
                    file,
                    String.format(
                            "machine-cpu %s: wall %.2fus/record, cpu/record: jvm %.2fus, broker unreadable (pid %d)",
                            what, wall / 1000.0 / records, jvm / 1000.0 / records, brokerPid));
            return;
        }
        long broker = brokerEnd - brokerStart;
        BenchmarkBroker.report(
                file,
                String.format(
                        "machine-cpu %s: wall %.2fus/record, cpu/record: jvm %.2fus, broker %.2fus, both %.2fus;"
                                + " cores busy %.2f of %d",
                        what,
                        wall / 1000.0 / records,
                        jvm / 1000.0 / records,
                        broker / 1000.0 / records,
                        (jvm + broker) / 1000.0 / records,
                        (double) (jvm + broker) / wall,
                        Runtime.getRuntime().availableProcessors()));
    }
}
