package dev.forwarder.testkit;

import dev.forwarder.internal.spool.LiveTreeVisitor;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of a spool a forwarder is running on, walked as the product walks one ({@link LiveTreeVisitor}: a
 * name gone by the time it is read is left out, not an error).
 */
public final class LiveFiles {

    private LiveFiles() {}

    /** Every directory (from {@code dir}) and regular file under {@code dir} with its attributes, in walk order. */
    public static Map<Path, BasicFileAttributes> under(Path dir) throws IOException {
        Map<Path, BasicFileAttributes> found = new LinkedHashMap<>();
        Files.walkFileTree(dir, new LiveTreeVisitor() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                found.put(d, attrs);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    found.put(f, attrs);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }

    /** The regular files under {@code dir}. */
    public static List<Path> files(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        under(dir).forEach((p, attrs) -> {
            if (attrs.isRegularFile()) {
                files.add(p);
            }
        });
        return files;
    }

    /** The sum of the lengths of the regular files under {@code dir}, as they were when walked. */
    public static long bytes(Path dir) throws IOException {
        long total = 0;
        for (BasicFileAttributes attrs : under(dir).values()) {
            if (attrs.isRegularFile()) {
                total += attrs.size();
            }
        }
        return total;
    }
}
