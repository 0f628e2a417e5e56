package dev.forwarder.langchain4j;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Accessors that providers' metadata classes have without a common type ({@code rawHttpResponse()},
 * {@code rawServerSentEvents()}, {@code seed()}), looked up once per class. Null when absent, never an
 * exception: a provider that lacks one records without it.
 */
final class ProviderMetadata {

    private static final Map<Class<?>, Map<String, Optional<Method>>> METHODS = new ConcurrentHashMap<>();

    private ProviderMetadata() {}

    /** What {@code target.name()} returns, or null if it has no such public method or the call fails. */
    static Object value(Object target, String name) {
        if (target == null) {
            return null;
        }
        Optional<Method> method = METHODS.computeIfAbsent(target.getClass(), c -> new ConcurrentHashMap<>())
                .computeIfAbsent(name, n -> {
                    try {
                        Method m = target.getClass().getMethod(n);
                        m.setAccessible(true);
                        return Optional.of(m);
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        return Optional.empty();
                    }
                });
        try {
            return method.isPresent() ? method.get().invoke(target) : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
