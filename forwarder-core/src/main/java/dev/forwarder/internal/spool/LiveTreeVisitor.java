package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;

/**
 * A walk ({@code Files.walkFileTree}) of a spool other processes are working in: they create, rename and delete
 * files and directories meanwhile (retention, roll files made ahead, the warm-up queue), so a name gone by the
 * time the walk reads it is skipped, not an error ({@code Files.walk} throws for one). Every other failure is
 * thrown.
 */
public abstract class LiveTreeVisitor extends SimpleFileVisitor<Path> {

    @Override
    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
            return FileVisitResult.CONTINUE;
        }
        throw e;
    }

    @Override
    public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null && !(e instanceof NoSuchFileException)) {
            throw e;
        }
        return FileVisitResult.CONTINUE;
    }
}
