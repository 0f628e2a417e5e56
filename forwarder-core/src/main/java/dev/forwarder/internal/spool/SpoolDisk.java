package dev.forwarder.internal.spool;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** A spool's files on the disk: how much they take, measured two ways, and forcing the newest to the device. */
final class SpoolDisk {

    private SpoolDisk() {}

    /**
     * Bytes of the files under {@code dir} (their length; roll files are sparse, so this can exceed what the
     * disk holds). A file deleted during the walk counts 0 (File.length of a missing file) and does not end the
     * walk: a measurement must never come out as "nothing", or the max_bytes check would be off for a cycle.
     * Directories whose names start with {@code apart} are not counted (the dead-letter spool inside a spool,
     * and redrive's {@code dead-letter.*}: they have a bound of their own).
     */
    static long lengthBytes(Path dir, String apart) {
        long total = 0;
        ArrayDeque<File> dirs = new ArrayDeque<>();
        dirs.push(dir.toFile());
        while (!dirs.isEmpty()) {
            File[] files = dirs.pop().listFiles(); // null if the directory went away meanwhile
            if (files == null) {
                continue;
            }
            for (File f : files) {
                if (f.isDirectory()) {
                    if (!f.getName().startsWith(apart)) {
                        dirs.push(f);
                    }
                } else {
                    total += f.length();
                }
            }
        }
        return total;
    }

    /**
     * Bytes the files under {@code dir} take on disk (what {@code du} reports: sparse files count what they
     * hold, not their length); their length ({@link #lengthBytes}) if that cannot be measured. Starts a
     * process: for the dead-letter spool's guard, once a second.
     */
    static long allocatedBytes(Path dir, String apart) {
        try {
            Process du = new ProcessBuilder("du", "-sk", dir.toString())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (du.waitFor() == 0) {
                return Long.parseLong(out.substring(0, out.indexOf('\t')).trim()) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // measured by length below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return lengthBytes(dir, apart);
    }

    /**
     * Forces the two newest roll files in {@code queueDir} to the storage device (fsync: it writes the pages
     * any process dirtied through its mapping). For {@code spool.sync = interval}, from a background thread.
     */
    static void syncNewest(Path queueDir) throws IOException {
        List<Path> newest;
        try (Stream<Path> files = Files.list(queueDir)) {
            newest = files.filter(p -> p.toString().endsWith(".cq4"))
                    .sorted(Comparator.reverseOrder())
                    .limit(2)
                    .toList();
        }
        for (Path file : newest) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(false);
            } catch (NoSuchFileException deleted) {
                // retention deleted it meanwhile: nothing to force
            }
        }
    }
}
