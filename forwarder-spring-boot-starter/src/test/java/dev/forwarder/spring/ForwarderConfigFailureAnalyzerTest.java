package dev.forwarder.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.ForwarderConfig;
import dev.forwarder.ForwarderConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.io.support.SpringFactoriesLoader;

/** A bad configuration is told as Spring Boot tells a failed start, with every bad key and no secret. */
class ForwarderConfigFailureAnalyzerTest {

    @Test
    void springBootFindsTheAnalyzerAndItNamesEveryBadKeyButNoSecret() {
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation(
                        getClass().getClassLoader())
                .load(FailureAnalyzer.class, null, (type, name, failure) -> {}); // others need a bean factory
        FailureAnalyzer ours = analyzers.stream()
                .filter(a -> a instanceof ForwarderConfigFailureAnalyzer)
                .findFirst()
                .orElse(null);
        assertNotNull(ours, "registered in META-INF/spring.factories: " + analyzers);

        ForwarderConfigException bad = null;
        try {
            ForwarderConfig.parse("gateway.observability.kafka { batch_size = 0, spool.max_bytez = 1,"
                    + " sasl { mechanism = MD5, username = alice, password = \"hunter2-secret\" } }");
        } catch (ForwarderConfigException e) {
            bad = e;
        }
        assertNotNull(bad);
        FailureAnalysis analysis = ours.analyze(new BeanCreationException("forwarderConfig", "failed", bad));
        assertNotNull(analysis);
        String text = analysis.getDescription() + "\n" + analysis.getAction();
        for (String key : List.of(
                "gateway.observability.kafka.batch_size",
                "gateway.observability.kafka.spool.max_bytez",
                "gateway.observability.kafka.sasl.mechanism")) {
            assertTrue(text.contains(key), key + " in: " + text);
        }
        assertFalse(text.contains("hunter2"), text);
        assertEquals(bad, analysis.getCause());
    }
}
