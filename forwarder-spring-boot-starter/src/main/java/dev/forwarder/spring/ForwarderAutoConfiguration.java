package dev.forwarder.spring;

import dev.forwarder.Forwarder;
import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderMeterBinder;
import dev.forwarder.langchain4j.ForwardingChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * One {@link Forwarder} for the application, from its own configuration ({@link EnvironmentConfig}), started
 * with the context and drained at its shutdown after web requests stopped ({@link ForwarderLifecycle}); with
 * Micrometer, its metrics; with Actuator's health, a {@code forwarder} contributor; with LangChain4j, the
 * listener that records every chat model call. Every bean backs off when the application defines its own.
 * Off with {@code forwarder.spring.enabled = false}.
 */
@AutoConfiguration
@ConditionalOnClass(Forwarder.class)
@ConditionalOnBooleanProperty(name = "forwarder.spring.enabled", matchIfMissing = true)
public class ForwarderAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    ForwarderConfig forwarderConfig(Environment environment) {
        return EnvironmentConfig.read(environment);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    Forwarder forwarder(ForwarderConfig config) {
        return Forwarder.start(config);
    }

    @Bean
    @ConditionalOnMissingBean
    ForwarderLifecycle forwarderLifecycle(Forwarder forwarder) {
        return new ForwarderLifecycle(forwarder);
    }

    /** The forwarder's metrics in every Micrometer registry of the application (Boot binds MeterBinder beans). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    static class Metrics {
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        ForwarderMeterBinder forwarderMeterBinder(Forwarder forwarder) {
            return new ForwarderMeterBinder(forwarder);
        }
    }

    /** {@code /actuator/health/forwarder}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "forwarderHealthIndicator")
        ForwarderHealthIndicator forwarderHealthIndicator(Forwarder forwarder) {
            return new ForwarderHealthIndicator(forwarder);
        }
    }

    /** LangChain4j's Spring Boot starters register every ChatModelListener bean on their chat models. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ChatModelListener.class, ForwardingChatModelListener.class})
    static class LangChain4j {
        @Bean
        @ConditionalOnMissingBean
        ForwardingChatModelListener forwardingChatModelListener(Forwarder forwarder) {
            return new ForwardingChatModelListener(forwarder);
        }
    }
}
