package dev.forwarder.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class IdempotencyKeysTest {

    private static final byte[] BODY = {1, 2, 3};
    private static final byte[] OTHER = {4, 5, 6};
    private static final byte[] ANSWER = "{\"accepted\":3}".getBytes(StandardCharsets.UTF_8);

    private final IdempotencyKeys keys = new IdempotencyKeys();

    @Test
    void anAnsweredBodyIsAnsweredAgainAndAnotherBodyUnderItsKeyIsRefused() {
        IdempotencyKeys.Proceed first = assertInstanceOf(IdempotencyKeys.Proceed.class, keys.claim("k", BODY, 0));
        assertEquals(0, first.from());
        assertInstanceOf(IdempotencyKeys.InProgress.class, keys.claim("k", BODY, 1));
        keys.finish(first, 202, ANSWER);
        IdempotencyKeys.Answered again = assertInstanceOf(IdempotencyKeys.Answered.class, keys.claim("k", BODY, 2));
        assertEquals(202, again.status());
        assertArrayEquals(ANSWER, again.body());
        assertInstanceOf(IdempotencyKeys.Mismatch.class, keys.claim("k", OTHER, 3));
    }

    @Test
    void aBodyRefusedWholeIsForgottenAndOneCutShortResumesAfterItsAppendedLines() {
        IdempotencyKeys.Proceed refused = (IdempotencyKeys.Proceed) keys.claim("full", BODY, 0);
        keys.release(refused, 0);
        assertEquals(0, keys.size());
        assertEquals(0, ((IdempotencyKeys.Proceed) keys.claim("full", OTHER, 1)).from(), "a first attempt again");

        IdempotencyKeys.Proceed cut = (IdempotencyKeys.Proceed) keys.claim("cut", BODY, 0);
        keys.release(cut, 7);
        IdempotencyKeys.Proceed retry = assertInstanceOf(IdempotencyKeys.Proceed.class, keys.claim("cut", BODY, 1));
        assertEquals(7, retry.from(), "the seven lines in the spool are not appended again");
        assertInstanceOf(IdempotencyKeys.Mismatch.class, keys.claim("cut", OTHER, 2));
    }

    @Test
    void keysExpireAfterADayAndTheOldestAnsweredGoesFirstWhenFull() {
        keys.finish((IdempotencyKeys.Proceed) keys.claim("old", BODY, 0), 202, ANSWER);
        assertInstanceOf(
                IdempotencyKeys.Proceed.class,
                keys.claim("old", OTHER, IdempotencyKeys.KEEP_MS),
                "a day later the key is free");

        IdempotencyKeys full = new IdempotencyKeys();
        IdempotencyKeys.Proceed busy = (IdempotencyKeys.Proceed) full.claim("busy", BODY, 0);
        for (int i = 0; i < IdempotencyKeys.MAX_KEYS - 1; i++) {
            full.finish((IdempotencyKeys.Proceed) full.claim("k" + i, BODY, 0), 202, ANSWER);
        }
        full.claim("one-more", BODY, 1);
        assertEquals(IdempotencyKeys.MAX_KEYS, full.size());
        assertInstanceOf(IdempotencyKeys.InProgress.class, full.claim("busy", BODY, 2), "in progress: never evicted");
        assertInstanceOf(IdempotencyKeys.Proceed.class, full.claim("k0", BODY, 2), "the oldest answered was evicted");
        full.finish(busy, 202, ANSWER);
    }

    @Test
    void aKeyMustBeShortVisibleAscii() {
        assertNull(IdempotencyKeys.invalid("8e03978e-40d5-43e8-bc93-6894a57f9324"));
        assertNotNull(IdempotencyKeys.invalid(""));
        assertNotNull(IdempotencyKeys.invalid("with space"));
        assertNotNull(IdempotencyKeys.invalid("é"));
        assertNotNull(IdempotencyKeys.invalid("x".repeat(256)));
    }
}
