package dev.forwarder.spring;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Puts the {@code forwarder} health contributor in Actuator's readiness group beside Boot's own
 * {@code readinessState}: an instance whose spool refuses records is taken out of the load balancer, and
 * its liveness stays untouched (restarting it would not empty the spool). Only a default: an application that
 * sets {@code management.endpoint.health.group.readiness.include} itself keeps its own.
 */
class ReadinessGroup implements EnvironmentPostProcessor {

    static final String INCLUDE = "management.endpoint.health.group.readiness.include";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (!environment.getProperty("forwarder.spring.enabled", Boolean.class, true)
                || environment.containsProperty(INCLUDE)) {
            return;
        }
        environment
                .getPropertySources()
                .addLast(new MapPropertySource("forwarderReadinessGroup", Map.of(INCLUDE, "readinessState,forwarder")));
    }
}
