package dev.forwarder;

import java.util.List;

/**
 * A configuration that cannot be used. Carries every error found, each naming the full key, the bad value
 * and what is allowed; the message lists them one per line.
 */
public final class ForwarderConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    public ForwarderConfigException(List<String> errors) {
        super(
                errors.size() == 1
                        ? "invalid configuration: " + errors.get(0)
                        : "invalid configuration, " + errors.size() + " errors:\n  " + String.join("\n  ", errors));
        this.errors = List.copyOf(errors);
    }

    /** Each error, in the order of the keys. */
    public List<String> errors() {
        return errors;
    }
}
