package dev.forwarder.testkit;

import dev.forwarder.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The golden messages: TensorZero's documented examples with realistic values, one per data type. */
public final class Golden {

    private Golden() {}

    /** The golden message of {@code type}, as the bytes of its file under {@code /golden}. */
    public static byte[] json(DataType type) {
        String resource = "/golden/" + type.wireName() + ".json";
        try (InputStream in = Golden.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
