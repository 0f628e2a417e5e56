package dev.forwarder.langchain4j;

import dev.langchain4j.invocation.InvocationContext;
import dev.langchain4j.invocation.InvocationParameters;
import dev.langchain4j.observability.api.event.AiServiceCompletedEvent;
import dev.langchain4j.observability.api.event.AiServiceErrorEvent;
import dev.langchain4j.observability.api.event.AiServiceRequestIssuedEvent;
import dev.langchain4j.observability.api.event.AiServiceStartedEvent;
import dev.langchain4j.observability.api.listener.AiServiceCompletedListener;
import dev.langchain4j.observability.api.listener.AiServiceErrorListener;
import dev.langchain4j.observability.api.listener.AiServiceListener;
import dev.langchain4j.observability.api.listener.AiServiceRequestIssuedListener;
import dev.langchain4j.observability.api.listener.AiServiceStartedListener;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What an AI Service invocation tells the chat model calls it makes. LangChain4j tells AI Service listeners
 * which invocation (interface, method, arguments, memory id) a model call belongs to, and tells chat model
 * listeners nothing of it; but it fires the invocation's start, and each request of its tool round trips, in
 * the thread that then calls the model. So those events leave the invocation here, for that thread, and the
 * chat model listener's {@code onRequest} takes it: the call is recorded under the invocation's
 * function name ({@code Interface.method}), episode and tags. The invocation's end clears it.
 */
final class AiServiceCalls {

    /** Tags the records of an AI Service call carry: the service, its method and the chat memory id. */
    static final String TAG_SERVICE = "langchain4j.ai_service";

    static final String TAG_METHOD = "langchain4j.ai_service_method";
    static final String TAG_MEMORY_ID = "langchain4j.memory_id";

    private static final ThreadLocal<InvocationContext> CURRENT = new ThreadLocal<>();

    private AiServiceCalls() {}

    /** The listeners to register on an AI Service ({@code AiServices.builder(...).registerListeners(...)}). */
    static List<AiServiceListener<?>> listeners() {
        return List.of(
                (AiServiceStartedListener) (AiServiceStartedEvent e) -> CURRENT.set(e.invocationContext()),
                (AiServiceRequestIssuedListener) (AiServiceRequestIssuedEvent e) -> CURRENT.set(e.invocationContext()),
                (AiServiceCompletedListener) (AiServiceCompletedEvent e) -> CURRENT.remove(),
                (AiServiceErrorListener) (AiServiceErrorEvent e) -> CURRENT.remove());
    }

    /**
     * In a chat model listener's {@code onRequest}: the invocation this thread's call belongs to, if any,
     * put into the call's attributes where the call does not set them itself (its own attributes win).
     */
    static void take(Map<Object, Object> attributes) {
        InvocationContext invocation = CURRENT.get();
        if (invocation == null) {
            return;
        }
        InvocationParameters parameters = invocation.invocationParameters();
        Map<String, Object> given = parameters == null ? Map.of() : parameters.asMap();
        for (String key : List.of(
                ForwardingChatModelListener.FUNCTION_NAME,
                ForwardingChatModelListener.VARIANT_NAME,
                ForwardingChatModelListener.EPISODE_ID)) {
            if (given.get(key) != null) {
                attributes.putIfAbsent(key, given.get(key));
            }
        }
        attributes.putIfAbsent(ForwardingChatModelListener.FUNCTION_NAME, functionName(invocation));
        attributes.putIfAbsent(ForwardingChatModelListener.EPISODE_ID, episode(invocation));
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(TAG_SERVICE, String.valueOf(invocation.interfaceName()));
        tags.put(TAG_METHOD, String.valueOf(invocation.methodName()));
        Object memoryId = invocation.chatMemoryId();
        if (memoryId != null && !"default".equals(String.valueOf(memoryId))) {
            tags.put(TAG_MEMORY_ID, String.valueOf(memoryId));
        }
        addTags(tags, given.get(ForwardingChatModelListener.TAGS));
        addTags(tags, attributes.get(ForwardingChatModelListener.TAGS)); // the call's own win
        attributes.put(ForwardingChatModelListener.TAGS, tags);
    }

    private static void addTags(Map<String, String> tags, Object more) {
        if (more instanceof Map<?, ?> map) {
            map.forEach((k, v) -> {
                if (k != null && v != null) {
                    tags.put(k.toString(), v.toString());
                }
            });
        }
    }

    /** {@code Interface.method}, the interface by its simple name. */
    static String functionName(InvocationContext invocation) {
        String type = String.valueOf(invocation.interfaceName());
        String simple = type.substring(Math.max(type.lastIndexOf('.'), type.lastIndexOf('$')) + 1);
        return simple + "." + invocation.methodName();
    }

    /**
     * The episode of an invocation: one UUIDv7 (TensorZero's ids are v7), the same for every model call of the
     * invocation, made from the invocation's start (the time bits) and its random id (the rest).
     */
    static UUID episode(InvocationContext invocation) {
        long ms = invocation.timestamp() == null
                ? System.currentTimeMillis()
                : invocation.timestamp().toEpochMilli();
        UUID id = invocation.invocationId() == null ? UUID.randomUUID() : invocation.invocationId();
        long msb = (ms << 16) | 0x7000L | (id.getMostSignificantBits() & 0x0FFFL);
        long lsb = (id.getLeastSignificantBits() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }
}
