package dev.forwarder.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class against a real Kafka broker: one {@link KafkaBroker} child process is started before
 * the class's first test and stopped after its last. Tests receive it as a {@link KafkaBroker} parameter
 * (of a test method, a lifecycle method or the constructor).
 *
 * <pre>
 * &#64;KafkaTest
 * class DeliveryIT {
 *     &#64;Test
 *     void arrives(KafkaBroker broker) { ... broker.bootstrapServers() ... }
 * }
 * </pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(KafkaBrokerExtension.class)
@Tag("kafka")
public @interface KafkaTest {
    /** Also open a SASL_PLAINTEXT listener with PLAIN and SCRAM users. */
    boolean sasl() default false;

    /** Also open an SSL listener (and, with {@link #sasl()}, a SASL_SSL one); see {@link KafkaBroker#caFile()}. */
    boolean tls() default false;

    /** Broker settings as {@code key=value}, e.g. {@code "message.max.bytes=200000"}. */
    String[] brokerProperties() default {};
}
