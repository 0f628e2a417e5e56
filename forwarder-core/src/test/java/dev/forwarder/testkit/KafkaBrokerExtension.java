package dev.forwarder.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit 5 extension behind {@link KafkaTest}: one broker per test class, closed (killed, data deleted)
 * when the class is done, whether its tests passed or not.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(KafkaBrokerExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        broker(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        return broker(context);
    }

    private static KafkaBroker broker(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        ExtensionContext.Store store = classContext(context).getStore(NAMESPACE);
        return store.getOrComputeIfAbsent(
                        testClass,
                        c -> {
                            KafkaTest settings = AnnotationSupport.findAnnotation(testClass, KafkaTest.class)
                                    .orElse(null);
                            KafkaBroker.Builder builder = KafkaBroker.builder();
                            if (settings != null) {
                                builder.sasl(settings.sasl()).tls(settings.tls());
                                for (String property : settings.brokerProperties()) {
                                    int eq = property.indexOf('=');
                                    if (eq < 1) {
                                        throw new IllegalArgumentException(
                                                "brokerProperties entry must be key=value: " + property);
                                    }
                                    builder.brokerProperty(
                                            property.substring(0, eq).trim(),
                                            property.substring(eq + 1).trim());
                                }
                            }
                            KafkaBroker broker = builder.build();
                            broker.start();
                            return new CloseableBroker(broker);
                        },
                        CloseableBroker.class)
                .broker();
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext current = context;
        while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
            current = current.getParent().get();
        }
        return current;
    }

    private record CloseableBroker(KafkaBroker broker)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            broker.close();
        }
    }
}
