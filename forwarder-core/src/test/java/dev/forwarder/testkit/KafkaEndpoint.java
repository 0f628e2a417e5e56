package dev.forwarder.testkit;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/** A test broker or cluster as clients see it: its PLAINTEXT bootstrap servers and properties built on them. */
public interface KafkaEndpoint {

    /** The PLAINTEXT listeners, comma-separated. */
    String bootstrapServers();

    /** Client properties for the PLAINTEXT listeners. */
    default Map<String, Object> clientProperties() {
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** Client properties of a consumer that reads only committed transactions ({@code read_committed}). */
    default Map<String, Object> readCommittedProperties() {
        Map<String, Object> props = clientProperties();
        props.put("isolation.level", "read_committed");
        return props;
    }
}
