package dev.forwarder.langchain4j;

import com.codahale.metrics.Counter;
import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.forwarder.ChatInference;
import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.langchain4j.model.chat.ChatRequestOptions;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelErrorContext;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.observability.api.listener.AiServiceListener;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A LangChain4j {@link ChatModelListener} that records every successful chat model call as TensorZero's two
 * records, a {@link ModelInference} (the call to the provider) and a {@link ChatInference} (the function's
 * result), linked by {@code inference_id}, and publishes them through a {@link Forwarder}: into the spool,
 * never waiting on Kafka, never throwing into LangChain4j. The callbacks are here; the records are made by
 * {@code TensorZeroRecords} from the call's {@code CallAttributes}.
 *
 * <pre>{@code
 * ChatModel model = OpenAiChatModel.builder().apiKey(key).modelName("gpt-4o-mini")
 *         .listeners(List.of(new ForwardingChatModelListener(forwarder)))
 *         .build();
 * }</pre>
 *
 * <p>Per call, through the request's listener attributes ({@code ChatRequestOptions}): {@link #FUNCTION_NAME},
 * {@link #VARIANT_NAME} (default: the configured function name, and the model name), {@link #EPISODE_ID}
 * (a UUID or its text; default: a new episode per call) and {@link #TAGS} (a map). A failed call records
 * nothing, as TensorZero, and counts one {@code forwarder_langchain4j_errors{provider}}. {@code ttft_ms} is known only
 * for a stream this listener watches: {@link #chat(StreamingChatModel, ChatRequest, Map, StreamingChatResponseHandler)}.
 */
public final class ForwardingChatModelListener implements ChatModelListener {

    /** Listener attribute: the TensorZero function name of this call. */
    public static final String FUNCTION_NAME = "tensorzero.function_name";
    /** Listener attribute: the variant name of this call. */
    public static final String VARIANT_NAME = "tensorzero.variant_name";
    /** Listener attribute: the episode this call belongs to (a {@link UUID} or its text). */
    public static final String EPISODE_ID = "tensorzero.episode_id";
    /** Listener attribute: tags of this call, a {@code Map} of strings. */
    public static final String TAGS = "tensorzero.tags";
    /** TensorZero's function for calls made to a model directly. */
    public static final String DEFAULT_FUNCTION_NAME = "tensorzero::default";

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingChatModelListener.class);
    private static final TimeBasedEpochGenerator IDS = Generators.timeBasedEpochGenerator();

    private final Forwarder forwarder;
    private final String functionName;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Counter failures;

    /** Records calls under {@link #DEFAULT_FUNCTION_NAME}. */
    public ForwardingChatModelListener(Forwarder forwarder) {
        this(forwarder, DEFAULT_FUNCTION_NAME);
    }

    /** Records calls under this function name, unless a call's {@link #FUNCTION_NAME} attribute says another. */
    public ForwardingChatModelListener(Forwarder forwarder, String functionName) {
        if (functionName == null || functionName.isBlank()) {
            throw new IllegalArgumentException("functionName must not be blank");
        }
        this.forwarder = forwarder;
        this.functionName = functionName;
        this.failures = forwarder.counter("forwarder_langchain4j_recording_failures", Map.of());
    }

    /**
     * For LangChain4j AI Services: register these on the service, and its calls (and the tool round trips of
     * one invocation) are recorded under {@code Interface.method} as the function name, one episode per
     * invocation, and tags naming the service, the method and the chat memory id. This listener must also be
     * on the service's chat model: it records the calls; these tell it which invocation a call belongs to.
     *
     * <pre>{@code
     * Assistant assistant = AiServices.builder(Assistant.class)
     *         .chatModel(model)                                  // built with .listeners(List.of(listener))
     *         .registerListeners(listener.aiServiceListeners())
     *         .build();
     * }</pre>
     *
     * An invocation's {@code InvocationParameters} may set {@link #FUNCTION_NAME}, {@link #VARIANT_NAME},
     * {@link #EPISODE_ID} (e.g. one episode for a whole conversation) and {@link #TAGS}.
     */
    public List<AiServiceListener<?>> aiServiceListeners() {
        return AiServiceCalls.listeners();
    }

    @Override
    public void onRequest(ChatModelRequestContext context) {
        try {
            AiServiceCalls.take(context.attributes());
            Object trace = CallTrace.capture();
            if (trace != null) {
                context.attributes().put(CallTrace.KEY, trace);
            }
            context.attributes().put(CallAttributes.STARTED_NANOS, System.nanoTime());
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void onResponse(ChatModelResponseContext context) {
        long now = System.nanoTime();
        try {
            record(context, now);
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError error) {
                throw error;
            }
            failed(t);
        }
    }

    @Override
    public void onError(ChatModelErrorContext context) {
        try {
            String provider = TensorZeroRecords.providerName(context.modelProvider());
            errors.computeIfAbsent(
                            provider, p -> forwarder.counter("forwarder_langchain4j_errors", Map.of("provider", p)))
                    .inc();
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /**
     * Streams a chat through the model and records it with {@code ttft_ms}, the time from the request to
     * the first token (text, thinking or tool call) this handler saw. LangChain4j's listeners are not told
     * of partial responses; this is the way to know when the first one came.
     *
     * @param attributes listener attributes of this call ({@link #FUNCTION_NAME} and the others), may be empty
     */
    public void chat(
            StreamingChatModel model,
            ChatRequest request,
            Map<Object, Object> attributes,
            StreamingChatResponseHandler handler) {
        FirstTokenWatch watch = new FirstTokenWatch();
        Map<Object, Object> all = new LinkedHashMap<>(attributes);
        all.put(CallAttributes.FIRST_TOKEN, watch);
        model.chat(request, ChatRequestOptions.builder().listenerAttributes(all).build(), watch.watching(handler));
    }

    // ---- the records ----

    /**
     * The two records a response becomes, as {@link #onResponse} publishes them: the model inference, then
     * the chat inference (with new ids each time). Timings are measured to now.
     */
    public List<InferenceRecord> records(ChatModelResponseContext context) {
        try {
            return records(context, System.nanoTime());
        } catch (IOException e) {
            throw new IllegalStateException("a record could not be written as JSON", e);
        }
    }

    private void record(ChatModelResponseContext context, long nowNanos) throws Exception {
        List<InferenceRecord> records = records(context, nowNanos);
        // Within the caller's trace context, whichever thread LangChain4j answers on (a stream's is another).
        try (AutoCloseable scope = CallTrace.enter(context.attributes().get(CallTrace.KEY))) {
            for (InferenceRecord record : records) {
                forwarder.publish(record);
            }
        }
    }

    private List<InferenceRecord> records(ChatModelResponseContext context, long nowNanos) throws IOException {
        ChatRequest request = context.chatRequest();
        ChatResponse response = context.chatResponse();
        CallAttributes call = CallAttributes.of(
                context.attributes(),
                functionName,
                TensorZeroRecords.modelName(request, response),
                nowNanos,
                IDS::generate);
        return TensorZeroRecords.of(request, response, context.modelProvider(), call, IDS::generate);
    }

    private void failed(Throwable t) {
        failures.inc();
        LOG.warn("a LangChain4j call could not be recorded: {}", t.toString(), t);
    }
}
