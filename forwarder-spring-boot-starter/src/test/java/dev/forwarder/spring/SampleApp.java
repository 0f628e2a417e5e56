package dev.forwarder.spring;

import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.testkit.Records;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot web application as users write them: the starter on the class path, a request handler that
 * publishes a record through the injected {@link Forwarder}. Run in the test JVM and as a child process.
 */
@SpringBootConfiguration(proxyBeanMethods = false)
@EnableAutoConfiguration
@Import(SampleApp.Chat.class)
public class SampleApp {

    public static void main(String[] args) {
        SpringApplication.run(SampleApp.class, args);
    }

    /** {@code POST /chat/{id}}: the inference a real handler would record, answered with the publish status. */
    @RestController
    static class Chat {
        private final Forwarder forwarder;

        Chat(Forwarder forwarder) {
            this.forwarder = forwarder;
        }

        /** {@code copies} records ({@code id}, {@code id-1}, ...): the first status that is not ACCEPTED, or ACCEPTED. */
        @PostMapping("/chat/{id}")
        String chat(@PathVariable("id") String id, @RequestParam(name = "copies", defaultValue = "1") int copies) {
            for (int i = 0; i < copies; i++) {
                String status = forwarder
                        .publish(
                                DataType.CHAT_INFERENCE,
                                Records.json(DataType.CHAT_INFERENCE, i == 0 ? id : id + "-" + i))
                        .status()
                        .name();
                if (!status.equals("ACCEPTED")) {
                    return status;
                }
            }
            return "ACCEPTED";
        }
    }
}
