package dev.forwarder;

import dev.forwarder.internal.forward.ForwardingThread;
import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.OpenSpool;
import java.util.Map;

/**
 * What a {@link Forwarder} does, decided at its start: nothing ({@code enabled = false}), append to a spool
 * another process forwards, or append and forward. Each answers the status and the gauges; those that hold a
 * spool keep its last values once it is closed (a closed spool cannot be read).
 */
sealed interface Mode permits Mode.Disabled, Mode.WithSpool {

    ForwarderStatus.State state();

    /** The status, with the request path's counts. */
    ForwarderStatus status(long offered, long appended, Map<PublishResult.Status, Long> dropped);

    long checkpoint();

    long backlogRecords();

    /** Append time (epoch ms) of the oldest record not yet forwarded, or -1 for none. */
    long oldestUnforwardedAppendTimeMs();

    long diskBytes();

    /** Bytes of the dead-letter spool's files. */
    long deadLetterBytes();

    /** Stops forwarding (the drain, at most {@code drainMs}); the spool stays open. */
    void drain(long drainMs);

    /** Closes the spool, keeping its last values for the status and the gauges. */
    void closeSpool();

    /** Output disabled by configuration: every record is dropped as DROPPED_DISABLED. */
    final class Disabled implements Mode {
        @Override
        public ForwarderStatus.State state() {
            return ForwarderStatus.State.DISABLED;
        }

        @Override
        public ForwarderStatus status(long offered, long appended, Map<PublishResult.Status, Long> dropped) {
            return new ForwarderStatus(
                    ForwarderStatus.State.DISABLED,
                    offered,
                    appended,
                    dropped,
                    0,
                    0,
                    0,
                    0,
                    0,
                    Checkpoint.NONE,
                    0,
                    null);
        }

        @Override
        public long checkpoint() {
            return Checkpoint.NONE;
        }

        @Override
        public long backlogRecords() {
            return 0;
        }

        @Override
        public long oldestUnforwardedAppendTimeMs() {
            return -1;
        }

        @Override
        public long diskBytes() {
            return 0;
        }

        @Override
        public long deadLetterBytes() {
            return 0;
        }

        @Override
        public void drain(long drainMs) {}

        @Override
        public void closeSpool() {}
    }

    /** A spool this process appends to; {@code forwarding} says whose checkpoint it reads. */
    abstract sealed class WithSpool implements Mode permits Appending, Forwarding {
        final OpenSpool opened;
        private final boolean ownCheckpoint;
        private volatile boolean closed;
        private volatile long lastCheckpoint;
        private volatile long lastBacklog;
        private volatile long lastOldest = -1;
        private volatile long lastDiskBytes;
        private volatile long lastDeadLetterBytes;

        WithSpool(OpenSpool opened, boolean ownCheckpoint) {
            this.opened = opened;
            this.ownCheckpoint = ownCheckpoint;
        }

        boolean closed() {
            return closed;
        }

        /** An appender re-reads the forwarding process's checkpoint file; the forwarder knows its own. */
        @Override
        public long checkpoint() {
            if (closed) {
                return lastCheckpoint;
            }
            return ownCheckpoint
                    ? opened.checkpoint().read()
                    : opened.checkpoint().reread();
        }

        @Override
        public long backlogRecords() {
            return closed ? lastBacklog : opened.spool().query().countAfter(checkpoint());
        }

        @Override
        public long oldestUnforwardedAppendTimeMs() {
            return closed ? lastOldest : opened.spool().query().appendTimeAfter(checkpoint());
        }

        @Override
        public long diskBytes() {
            return closed ? lastDiskBytes : opened.spool().diskBytes();
        }

        @Override
        public long deadLetterBytes() {
            return closed ? lastDeadLetterBytes : opened.deadLetters().diskBytes();
        }

        @Override
        public void closeSpool() {
            long cp = checkpoint();
            lastBacklog = opened.spool().query().countAfter(cp);
            lastOldest = opened.spool().query().appendTimeAfter(cp);
            lastDiskBytes = opened.spool().diskBytes();
            lastDeadLetterBytes = opened.deadLetters().diskBytes();
            lastCheckpoint = cp;
            closed = true;
            opened.close();
        }
    }

    /** Appends to a spool that another process forwards. */
    final class Appending extends WithSpool {
        Appending(OpenSpool opened) {
            super(opened, false);
        }

        @Override
        public ForwarderStatus.State state() {
            return closed() ? ForwarderStatus.State.CLOSED : ForwarderStatus.State.APPENDING;
        }

        @Override
        public ForwarderStatus status(long offered, long appended, Map<PublishResult.Status, Long> dropped) {
            return new ForwarderStatus(
                    state(), offered, appended, dropped, 0, 0, 0, 0, backlogRecords(), checkpoint(), 0, null);
        }

        @Override
        public void drain(long drainMs) {}
    }

    /** Appends to a spool and forwards it from a thread of its own. */
    final class Forwarding extends WithSpool {
        final ForwardingThread thread;

        Forwarding(OpenSpool opened, ForwardingThread thread) {
            super(opened, true);
            this.thread = thread;
        }

        @Override
        public ForwarderStatus.State state() {
            return thread.state();
        }

        @Override
        public ForwarderStatus status(long offered, long appended, Map<PublishResult.Status, Long> dropped) {
            return new ForwarderStatus(
                    thread.state(),
                    offered,
                    appended,
                    dropped,
                    thread.delivered(),
                    thread.deadLettered(),
                    thread.corrupt(),
                    thread.lost(),
                    backlogRecords(),
                    checkpoint(),
                    thread.inFlight(),
                    thread.lastError());
        }

        @Override
        public void drain(long drainMs) {
            thread.drainAndClose(drainMs);
        }
    }
}
