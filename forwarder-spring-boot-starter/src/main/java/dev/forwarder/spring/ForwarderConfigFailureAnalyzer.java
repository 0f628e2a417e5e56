package dev.forwarder.spring;

import dev.forwarder.ForwarderConfigException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A bad forwarder configuration, told as Spring Boot tells a failed start: every bad key, and what to do. */
class ForwarderConfigFailureAnalyzer extends AbstractFailureAnalyzer<ForwarderConfigException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ForwarderConfigException cause) {
        return new FailureAnalysis(
                "The forwarder's configuration is invalid:\n  " + String.join("\n  ", cause.errors()),
                "Correct the keys named above in application.properties or .yml, the environment, or the file"
                        + " named by " + EnvironmentConfig.CONFIG_FILE + " (the keys are the forwarder's README's,"
                        + " in any of Spring's relaxed forms).",
                cause);
    }
}
