package dev.forwarder;

/**
 * The forwarder could not start: the spool cannot be opened or is held by another forwarder, or Kafka could
 * not be reached with {@code startup.require_connection} on. The message says what failed and what to check.
 */
public final class ForwarderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ForwarderException(String message) {
        super(message);
    }

    public ForwarderException(String message, Throwable cause) {
        super(message, cause);
    }
}
