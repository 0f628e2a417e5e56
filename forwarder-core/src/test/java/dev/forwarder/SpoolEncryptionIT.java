package dev.forwarder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forwarder.internal.spool.Checkpoint;
import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolKeys;
import dev.forwarder.testkit.Delivered;
import dev.forwarder.testkit.KafkaBroker;
import dev.forwarder.testkit.KafkaTest;
import dev.forwarder.testkit.LiveFiles;
import dev.forwarder.testkit.Records;
import dev.forwarder.testkit.TestConfig;
import dev.forwarder.testkit.TopicReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spool.encryption} against a real broker: the spool's files hold no plaintext of what was published,
 * records forward normally, a key rotation loses nothing, and a wrong or missing key refuses to start with the
 * spool untouched.
 */
@KafkaTest
class SpoolEncryptionIT {

    /** In every record of {@link Records#json}: what must never be readable in an encrypted spool's files. */
    private static final String MARKER = "The quick brown fox jumps over the lazy dog.";

    @Test
    void anEncryptedSpoolHoldsNoPlaintextForwardsSurvivesRotationAndRefusesAWrongKey(
            KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spoolDir = dir.resolve("spool");
        String keyA = newKey();
        String keyB = newKey();
        Path keys = keyFile(dir, "spool.keys", keyA);
        ForwarderConfig config = config(broker, spoolDir, keys);
        String prefix = config.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();

        // 1. An appending process seals 30 records with key A; nothing is forwarded yet.
        append(config, run, 0, 30, ids);
        assertFalse(filesContain(spoolDir, MARKER), "plaintext of a record in the encrypted spool's files");
        int idA = SpoolKeys.load(keys).activeId();
        assertEquals(Map.of((long) idA, 30L), sealingKeys(spoolDir));

        // 2. A wrong key, or none, refuses to start; the spool is untouched.
        Path wrong = keyFile(dir, "wrong.keys", newKey());
        ForwarderException refused =
                assertThrows(ForwarderException.class, () -> Forwarder.start(config(broker, spoolDir, wrong)));
        assertTrue(
                refused.getMessage().contains("30 unforwarded records sealed with key " + SpoolKeys.name(idA)),
                refused.getMessage());
        assertTrue(refused.getMessage().contains(wrong.toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains("nothing in the spool was changed"), refused.getMessage());
        assertFalse(refused.getMessage().contains(keyA), refused.getMessage());
        ForwarderException none =
                assertThrows(ForwarderException.class, () -> Forwarder.start(config(broker, spoolDir, null)));
        assertTrue(none.getMessage().contains("spool.encryption.key_file is not set"), none.getMessage());
        assertEquals(Map.of((long) idA, 30L), sealingKeys(spoolDir));
        assertEquals(Checkpoint.NONE, Checkpoint.readFile(spoolDir.resolve("checkpoint")));

        // 3. A key file others can read is refused, naming it.
        Path wide = keyFile(dir, "wide.keys", keyA);
        Files.setPosixFilePermissions(wide, PosixFilePermissions.fromString("rw-r-----"));
        ForwarderException open =
                assertThrows(ForwarderException.class, () -> Forwarder.start(config(broker, spoolDir, wide)));
        assertTrue(
                open.getMessage().contains(wide.toString()) && open.getMessage().contains("chmod 600"),
                open.getMessage());

        // 4. Rotation: B first, A kept below it. New records are sealed with B; all 60 are forwarded.
        Files.writeString(keys, "# rotated: B seals, A still opens\n" + keyB + "\n" + keyA + "\n");
        int idB = SpoolKeys.load(keys).activeId();
        append(config, run, 30, 60, ids);
        assertEquals(Map.of((long) idA, 30L, (long) idB, 30L), sealingKeys(spoolDir));
        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, 60, 75, ids);
            forwarder.close();
            assertEquals(75, forwarder.status().delivered(), forwarder.status().toString());
        }
        assertFalse(filesContain(spoolDir, MARKER), "plaintext of a record in the encrypted spool's files");

        // 5. Once A's records are forwarded, A can leave the file.
        Files.writeString(keys, keyB + "\n");
        try (Forwarder forwarder = Forwarder.start(config)) {
            publish(forwarder, run, 75, 80, ids);
            forwarder.close();
            assertEquals(5, forwarder.status().delivered(), forwarder.status().toString());
        }

        // Kafka got every record once, as it was published (plaintext: encryption is at rest only).
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
        assertEquals(Set.of(), delivered.missing(ids));
        assertEquals(0, delivered.duplicates());
        List<ConsumerRecord<byte[], byte[]>> chat = TopicReader.readAll(
                broker.clientProperties(), DataType.CHAT_INFERENCE.topic(prefix), 1, Duration.ofSeconds(30));
        for (ConsumerRecord<byte[], byte[]> r : chat) {
            String value = new String(r.value(), StandardCharsets.UTF_8);
            assertTrue(
                    value.equals(new String(
                            Records.json(DataType.CHAT_INFERENCE, new String(r.key(), StandardCharsets.UTF_8)),
                            StandardCharsets.UTF_8)),
                    value);
        }
    }

    /**
     * Another writer seals with a key the forwarder does not hold: forwarding stops at that record and says
     * why (never skips it), and once the key is added the record and everything after it arrive.
     */
    @Test
    void aRecordSealedWithAnUnknownKeyMidRunIsWaitedOnNeverSkipped(KafkaBroker broker, @TempDir Path dir)
            throws Exception {
        Path spoolDir = dir.resolve("spool");
        String keyB = newKey();
        String keyC = newKey();
        ForwarderConfig withB = config(broker, spoolDir, keyFile(dir, "b.keys", keyB));
        ForwarderConfig withC = config(broker, spoolDir, keyFile(dir, "c.keys", keyC));
        String prefix = withB.kafka().topicPrefix();
        UUID run = UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        int idC = SpoolKeys.load(dir.resolve("c.keys")).activeId();
        try (Forwarder forwarder = Forwarder.start(withB)) {
            publish(forwarder, run, 0, 5, ids);
            append(withC, run, 5, 6, ids);
            publish(forwarder, run, 6, 10, ids);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> forwarder.status().lastError() != null);
            ForwarderStatus status = forwarder.status();
            assertTrue(
                    status.lastError() != null
                            && status.lastError().contains("sealed with key " + SpoolKeys.name(idC))
                            && status.lastError().contains("nothing is skipped"),
                    status.toString());
            // the five before it are delivered (a new topic can take a while)...
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> forwarder.status().delivered() >= 5);
            Thread.sleep(1000);
            // ... and nothing after it: the four behind the unreadable record wait with it.
            assertEquals(5, forwarder.status().delivered(), "forwarding went past the unreadable record");
        }
        Files.writeString(dir.resolve("b.keys"), keyB + "\n" + keyC + "\n");
        try (Forwarder forwarder = Forwarder.start(withB)) {
            forwarder.close();
            assertEquals(5, forwarder.status().delivered(), forwarder.status().toString());
            assertEquals(0, forwarder.status().corrupt());
        }
        Delivered delivered = Delivered.read(broker.clientProperties(), prefix, ids.size());
        assertEquals(Set.of(), delivered.missing(ids));
    }

    @Test
    void theMarkerTestCanFailAPlainSpoolHoldsPlaintext(KafkaBroker broker, @TempDir Path dir) throws Exception {
        Path spoolDir = dir.resolve("spool");
        append(config(broker, spoolDir, null), UUID.randomUUID(), 0, 3, new ArrayList<>());
        assertTrue(filesContain(spoolDir, MARKER), "the grep of the spool's files finds plaintext when it is there");
    }

    private static void publish(Forwarder forwarder, UUID run, int from, int to, List<String> ids) {
        for (int i = from; i < to; i++) {
            String id = Records.id(run, i);
            PublishResult r = forwarder.publish(Records.typeOf(i), Records.json(Records.typeOf(i), id));
            assertTrue(r.accepted(), r.toString());
            ids.add(id);
        }
    }

    /** Publishes through a process that only appends (as another writer of the spool would), then closes it. */
    private static void append(ForwarderConfig config, UUID run, int from, int to, List<String> ids) {
        try (Forwarder appender = Forwarder.startAppender(config)) {
            publish(appender, run, from, to, ids);
        }
    }

    private static ForwarderConfig config(KafkaBroker broker, Path spool, Path keys) {
        return TestConfig.forBroker(broker.bootstrapServers(), spool)
                .with(keys == null ? "" : "gateway.observability.kafka.spool.encryption.key_file = \"" + keys + "\"")
                .build();
    }

    private static Map<Long, Long> sealingKeys(Path spoolDir) throws IOException {
        try (Spool spool = new Spool(spoolDir)) {
            return spool.query().sealingKeysAfter(Checkpoint.NONE);
        }
    }

    static String newKey() {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    static Path keyFile(Path dir, String name, String key) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, key + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Whether any file under {@code dir} (roll files, checkpoint, metadata, dead letters) holds {@code text}. */
    static boolean filesContain(Path dir, String text) throws IOException {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        for (Path file : LiveFiles.files(dir)) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException gone) {
                continue; // deleted or renamed by the forwarder since the walk
            }
            if (indexOf(bytes, needle) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
