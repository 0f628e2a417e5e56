package dev.forwarder.sample;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.PublishResult;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot web application as users write one: the starter on the class path (the {@link Forwarder} bean
 * comes from {@code application.yml} and the environment), and a handler that records an inference through
 * it. Packaged by Boot's Maven plugin as an executable jar; {@code PackagedAppIT} runs it with {@code java -jar}.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }

    /**
     * {@code POST /inferences/{data_type}} with one record as its JSON body: 202 with the publish status when
     * the spool took it, 503 with the status when it did not, 404 for an unknown data type.
     */
    @RestController
    static class Inferences {
        private final Forwarder forwarder;

        Inferences(Forwarder forwarder) {
            this.forwarder = forwarder;
        }

        @PostMapping("/inferences/{type}")
        ResponseEntity<String> record(@PathVariable("type") String type, @RequestBody byte[] json) {
            DataType dataType = DataType.fromWireName(type).orElse(null);
            if (dataType == null) {
                return ResponseEntity.status(HttpStatus.NOT_FOUND).body("unknown data type: " + type);
            }
            PublishResult result = forwarder.publish(dataType, json);
            return ResponseEntity.status(result.accepted() ? HttpStatus.ACCEPTED : HttpStatus.SERVICE_UNAVAILABLE)
                    .body(result.status().name());
        }
    }
}
