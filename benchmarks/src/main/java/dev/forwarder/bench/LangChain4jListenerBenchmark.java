package dev.forwarder.bench;

import dev.forwarder.ChatInference;
import dev.forwarder.DataType;
import dev.forwarder.Forwarder;
import dev.forwarder.InferenceRecord;
import dev.forwarder.ModelInference;
import dev.forwarder.internal.json.EventCodec;
import dev.forwarder.langchain4j.ForwardingChatModelListener;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the LangChain4j listener adds to a chat model call: {@code onRequest} then {@code onResponse} for a
 * typical call (a system prompt, a ~600-character user question, temperature and max tokens set, a
 * ~400-character answer with token usage), which builds the model and chat inference records and publishes
 * both. Against it, in the same run: handing the same two records, already serialised, to a bare
 * {@code KafkaProducer.send()} with the forwarder's producer settings, the least a service writing to Kafka
 * itself would pay. Broker up (a real broker, child process) or down (the forwarder spools; send() blocks
 * once its buffer is full). The same conversation in English, German and Japanese ({@code -p language=...}):
 * text the JVM holds as ASCII, as Latin-1 beyond ASCII, and as UTF-16, each written its own way.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LangChain4jListener}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Threads(1)
public class LangChain4jListenerBenchmark {

    @Param({"up", "down"})
    public String broker;

    /**
     * The conversation's language: {@code english} (ASCII), {@code german} (Latin-1 letters beyond ASCII: the
     * JVM holds the text as Latin-1), {@code japanese} (held as UTF-16).
     */
    @Param({"english", "german", "japanese"})
    public String language;

    private PublishRig rig;
    private Forwarder forwarder;
    private ForwardingChatModelListener listener;
    private KafkaProducer<byte[], byte[]> producer;
    private ChatRequest request;
    private ChatResponse response;
    private byte[] modelJson;
    private byte[] chatJson;
    private byte[] modelKey;
    private byte[] chatKey;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new PublishRig(broker, "langchain4j", spool -> "");
        forwarder = rig.forwarder;
        producer = rig.producer;
        listener = new ForwardingChatModelListener(forwarder, "support_bot");
        String[] texts = conversation(language);
        String system = texts[0];
        String question = texts[1];
        String answer = texts[2];
        request = ChatRequest.builder()
                .messages(SystemMessage.from(system), UserMessage.from(question))
                .parameters(ChatRequestParameters.builder()
                        .modelName("gpt-4o-mini")
                        .temperature(0.2)
                        .maxOutputTokens(400)
                        .build())
                .build();
        response = ChatResponse.builder()
                .aiMessage(AiMessage.from(answer))
                .id("chatcmpl-B7")
                .modelName("gpt-4o-mini-2024-07-18")
                .tokenUsage(new TokenUsage(96, 82))
                .finishReason(FinishReason.STOP)
                .build();

        // The same two records, serialised once, for the bare producer.
        Map<Object, Object> attributes = new HashMap<>();
        listener.onRequest(new ChatModelRequestContext(request, ModelProvider.OPEN_AI, attributes));
        List<InferenceRecord> records =
                listener.records(new ChatModelResponseContext(response, request, ModelProvider.OPEN_AI, attributes));
        EventCodec codec = new EventCodec();
        modelJson = codec.serialize(records.get(0));
        chatJson = codec.serialize(records.get(1));
        modelKey = ((ModelInference) records.get(0)).id().toString().getBytes(StandardCharsets.UTF_8);
        chatKey = ((ChatInference) records.get(1)).id().toString().getBytes(StandardCharsets.UTF_8);
        System.out.println(
                "records: model_inference " + modelJson.length + " B, chat_inference " + chatJson.length + " B");
    }

    /** The system prompt, the question and the answer of the call, in {@code language}. */
    static String[] conversation(String language) {
        return switch (language) {
            case "english" ->
                new String[] {
                    "You are the customer support assistant of a shoe shop.",
                    "I ordered a pair of running shoes three weeks ago and the tracking page has said "
                            + "'label created' ever since. The order number is 48213-77. I would like to know whether the "
                            + "parcel was lost, whether you can send a replacement in size 44 before the end of next week, "
                            + "and, if not, how I can get a refund to the card I paid with. I have already written twice "
                            + "through the contact form without an answer. Please also tell me whether the replacement "
                            + "would ship from the same warehouse, since I would rather not wait another three weeks.",
                    "I am sorry about the delay. Order 48213-77 never left our warehouse: the carrier did "
                            + "not collect it. I have sent a replacement pair in size 44 by express delivery today; it "
                            + "should arrive within three working days and you will get a new tracking link by email. "
                            + "If you would rather have a refund, reply to that email and it will go to your card."
                };
            case "german" ->
                new String[] {
                    "Du bist der Kundendienst-Assistent eines Schuhgeschäfts.",
                    "Ich habe vor drei Wochen ein Paar Laufschuhe bestellt, und die Sendungsverfolgung zeigt seitdem "
                            + "nur »Etikett erstellt«. Die Bestellnummer ist 48213-77. Ich möchte wissen, ob das Paket "
                            + "verloren gegangen ist, ob Sie mir bis Ende nächster Woche Ersatz in Größe 44 schicken "
                            + "können und, falls nicht, wie ich eine Rückerstattung auf meine Karte erhalte. Ich habe "
                            + "schon zweimal über das Kontaktformular geschrieben, ohne Antwort. Bitte sagen Sie mir "
                            + "auch, ob der Ersatz aus demselben Lager käme; ich möchte ungern noch drei Wochen warten.",
                    "Entschuldigen Sie die Verzögerung. Die Bestellung 48213-77 hat unser Lager nie verlassen: der "
                            + "Paketdienst hat sie nicht abgeholt. Ich habe Ihnen heute ein Ersatzpaar in Größe 44 per "
                            + "Express geschickt; es sollte innerhalb von drei Werktagen ankommen, den neuen Link zur "
                            + "Sendungsverfolgung erhalten Sie per E-Mail. Möchten Sie lieber eine Rückerstattung, "
                            + "antworten Sie auf diese E-Mail, und der Betrag geht zurück auf Ihre Karte."
                };
            case "japanese" ->
                new String[] {
                    "あなたは靴店のカスタマーサポート担当アシスタントです。",
                    "三週間前にランニングシューズを一足注文しましたが、配送状況のページはずっと「ラベル作成済み」の"
                            + "ままです。注文番号は48213-77です。荷物が紛失したのかどうか、来週末までにサイズ44の代わりの"
                            + "商品を送っていただけるか、できない場合は支払ったカードへの返金方法を教えてください。"
                            + "お問い合わせフォームから二回連絡しましたが、返事がありません。代わりの商品が同じ倉庫から"
                            + "発送されるかどうかも教えてください。また三週間待つのは避けたいです。",
                    "お待たせして申し訳ありません。ご注文48213-77は倉庫から出荷されていませんでした。配送業者が"
                            + "集荷しなかったためです。本日、サイズ44の代わりの商品を速達でお送りしました。三営業日以内に"
                            + "届く予定で、新しい追跡リンクをメールでお送りします。返金をご希望の場合は、そのメールに"
                            + "ご返信いただければカードに返金いたします。"
                };
            default -> throw new IllegalArgumentException("language: english, german or japanese, not " + language);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        rig.close();
    }

    @Benchmark
    public void listener() {
        Map<Object, Object> attributes = new HashMap<>();
        listener.onRequest(new ChatModelRequestContext(request, ModelProvider.OPEN_AI, attributes));
        listener.onResponse(new ChatModelResponseContext(response, request, ModelProvider.OPEN_AI, attributes));
    }

    @Benchmark
    public void kafkaProducerSendTwo() {
        try {
            producer.send(new ProducerRecord<>(DataType.MODEL_INFERENCE.topic("bare"), modelKey, modelJson));
            producer.send(new ProducerRecord<>(DataType.CHAT_INFERENCE.topic("bare"), chatKey, chatJson));
        } catch (TimeoutException e) {
            // broker down and buffer full: send blocked max.block.ms, then gave up
        }
    }
}
