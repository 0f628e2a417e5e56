package dev.forwarder.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The files in {@code ops/} that operators install as they are: the systemd unit passes
 * {@code systemd-analyze verify} without a warning, stops no sooner than the example configuration's drain,
 * and keeps the spool under its state directory.
 */
class OpsFilesTest {

    private static final Path OPS =
            Path.of(System.getProperty("user.dir")).getParent().resolve("ops");
    private static final Path UNIT = OPS.resolve("systemd/forwarder.service");

    @Test
    void theServiceUnitVerifiesWithoutAWarning() throws Exception {
        String tool = systemdAnalyze();
        Process verify = new ProcessBuilder(tool, "verify", UNIT.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), out);
        // verify only warns (exit 0) about a value it cannot parse: any line about the unit is a failure.
        assertEquals(
                "", out.lines().filter(l -> l.contains("forwarder.service")).reduce("", (a, b) -> a + b + "\n"));
    }

    @Test
    void theUnitWaitsLongerThanTheDrainAndHoldsTheSpool() throws IOException {
        String unit = Files.readString(UNIT);
        Matcher stop = Pattern.compile("(?m)^TimeoutStopSec=(\\d+)$").matcher(unit);
        assertTrue(stop.find(), "TimeoutStopSec missing");
        Config example = ConfigFactory.parseFile(OPS.resolve("forwarder.conf").toFile())
                .withFallback(ConfigFactory.defaultReference())
                .resolve();
        long drainMs = example.getLong("gateway.observability.kafka.spool.drain_timeout_ms");
        long stopMs = Long.parseLong(stop.group(1)) * 1000;
        // The drain, then closing the producer and forcing the checkpoint: at least 15 s more than the drain.
        assertTrue(stopMs >= drainMs + 15_000, "TimeoutStopSec " + stopMs + " ms vs drain " + drainMs + " ms");
        assertTrue(unit.contains("\nStateDirectory=forwarder\n") && unit.contains("\nStateDirectoryMode=0700\n"));
        assertTrue(
                example.getString("gateway.observability.kafka.spool.dir").startsWith("/var/lib/forwarder/"),
                "the example's spool is not under the unit's StateDirectory");
        assertTrue(unit.contains("\nRestart=on-failure\n") && unit.contains("\nUser=forwarder\n"));
        // Its documentation is this project's README, installed beside the jar (it named another project).
        assertTrue(unit.contains("\nDocumentation=file:/opt/forwarder/README.md\n"), unit);
    }

    /** systemd-analyze, installed with apt-get (as root) when missing; a clear failure when that is impossible. */
    private static String systemdAnalyze() throws IOException, InterruptedException {
        for (String candidate : new String[] {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"}) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        Process install = new ProcessBuilder("apt-get", "install", "-y", "-q", "systemd")
                .inheritIO()
                .start();
        install.waitFor(600, TimeUnit.SECONDS);
        assertTrue(
                Files.isExecutable(Path.of("/usr/bin/systemd-analyze")),
                "systemd-analyze is missing and apt-get could not install the systemd package");
        return "/usr/bin/systemd-analyze";
    }
}
