package dev.forwarder.app;

/** A progress line on a terminal (rewritten in place at most every 200 ms); silent when output is not a terminal. */
final class Progress {

    private final String what;
    private final boolean terminal = System.console() != null;
    private long lastNanos;

    Progress(String what) {
        this.what = what;
    }

    void update(long count) {
        long now = System.nanoTime();
        if (terminal && now - lastNanos > 200_000_000L) {
            System.out.print("\r" + what + " " + count + " records...");
            System.out.flush();
            lastNanos = now;
        }
    }

    void done(long count) {
        if (terminal) {
            System.out.print("\r" + what + " " + count + " records.   \n");
        }
    }
}
