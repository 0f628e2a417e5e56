package dev.forwarder.internal.spool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys of an encrypted spool ({@code spool.encryption.key_file}) and the AES-GCM sealing of record
 * payloads with them, by the JDK's own provider. Anchor: Apache Flume's encrypted File Channel (an active
 * key for writing, older keys kept for reading, the key's name stored with each event).
 *
 * <p>The key file holds one key per line, Base64 of 16, 24 or 32 random bytes (e.g. {@code openssl rand
 * -base64 32}); blank lines and lines starting with {@code #} are ignored. The first key seals new records;
 * the others only open records sealed before a rotation. A key's id is the first four bytes of its SHA-256,
 * stored in every record it sealed, so a rotation needs no other bookkeeping: put the new key first, keep the
 * old one below it until the records it sealed are forwarded (a start refuses while any are left).
 *
 * <p>Nonces are 96 bits: a random value drawn when the keys are loaded, with a per-instance counter folded
 * into its low 64 bits, so one instance never repeats a nonce and two instances (processes, restarts) collide
 * only with probability about 2^-96 per pair of records. Thread-safe.
 */
public final class SpoolKeys {

    static final int KEY_ID_BYTES = 4;
    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private final Path file;
    private final Map<Integer, SecretKey> byId;
    private final int activeId;
    private final SecretKey active;
    private final byte[] nonceBase = new byte[NONCE_BYTES];
    private final AtomicLong nonceCounter = new AtomicLong();
    /** For opening only (the forwarder thread, tools); sealing uses the cipher of the spool's writer. */
    private final ThreadLocal<Cipher> openers = ThreadLocal.withInitial(SpoolKeys::newCipher);

    private SpoolKeys(Path file, Map<Integer, SecretKey> byId) {
        this.file = file;
        this.byId = byId;
        Map.Entry<Integer, SecretKey> first = byId.entrySet().iterator().next();
        this.activeId = first.getKey();
        this.active = first.getValue();
        new SecureRandom().nextBytes(nonceBase);
    }

    /**
     * Reads a key file.
     *
     * @throws IOException with a message that names the file and what is wrong with it, never a key's bytes
     */
    public static SpoolKeys load(Path file) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException("spool.encryption.key_file " + file + " is not a readable file");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
        if (mode.stream().anyMatch(NOT_OWNER::contains)) {
            throw new IOException("spool.encryption.key_file " + file + " is "
                    + PosixFilePermissions.toString(mode) + ": a key file must be readable by its owner only"
                    + " (chmod 600 " + file + ")");
        }
        Map<Integer, SecretKey> keys = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(line);
            } catch (IllegalArgumentException e) {
                throw new IOException(
                        "spool.encryption.key_file " + file + ", line " + (i + 1)
                                + ": not Base64 (expected 16, 24 or 32 random bytes in Base64, e.g. from openssl rand -base64 32)");
            }
            if (raw.length != 16 && raw.length != 24 && raw.length != 32) {
                throw new IOException("spool.encryption.key_file " + file + ", line " + (i + 1) + ": a key of "
                        + raw.length + " bytes; AES needs 16, 24 or 32");
            }
            keys.putIfAbsent(keyId(raw), new SecretKeySpec(raw, "AES"));
        }
        if (keys.isEmpty()) {
            throw new IOException("spool.encryption.key_file " + file + " holds no key (one Base64 key per line,"
                    + " the first seals new records)");
        }
        return new SpoolKeys(file, keys);
    }

    /** A key's id: the first four bytes of its SHA-256, big-endian. */
    static int keyId(byte[] raw) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(raw);
            return ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A key id as shown to people: eight hex digits. */
    public static String name(int keyId) {
        return String.format("%08x", keyId);
    }

    public Path file() {
        return file;
    }

    public int activeId() {
        return activeId;
    }

    public boolean holds(int keyId) {
        return byId.containsKey(keyId);
    }

    /** The ids of every key in the file, the active one first, as {@link #name(int)}s. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        byId.keySet().forEach(id -> names.add(name(id)));
        return names;
    }

    /** Writes a fresh nonce into {@code out} at {@code offset}. */
    void nextNonce(byte[] out, int offset) {
        System.arraycopy(nonceBase, 0, out, offset, NONCE_BYTES);
        long n = nonceCounter.getAndIncrement();
        for (int i = 0; i < 8; i++) {
            out[offset + NONCE_BYTES - 1 - i] ^= (byte) (n >>> (8 * i));
        }
    }

    /**
     * Seals the first {@code plainLength} bytes of {@code plain} with the active key into {@code out} (at least
     * {@code plainLength + 16} long).
     *
     * @param cipher    the caller's own (a Cipher is not thread-safe)
     * @param aad       the header bound to the ciphertext (with the key id and this nonce in it)
     * @param keySource the record's Kafka key is {@code keyLength} bytes from {@code keyOffset}, bound too
     *                  (-1: no key)
     */
    void seal(
            Cipher cipher,
            byte[] nonce,
            int nonceOffset,
            byte[] aad,
            int aadLength,
            byte[] keySource,
            int keyOffset,
            int keyLength,
            byte[] plain,
            int plainLength,
            byte[] out) {
        try {
            cipher.init(
                    Cipher.ENCRYPT_MODE, active, new GCMParameterSpec(TAG_BYTES * 8, nonce, nonceOffset, NONCE_BYTES));
            cipher.updateAAD(aad, 0, aadLength);
            if (keyLength >= 0) {
                cipher.updateAAD(keySource, keyOffset, keyLength);
            }
            cipher.doFinal(plain, 0, plainLength, out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
    }

    /**
     * Opens a sealed payload.
     *
     * @throws SpoolRecord.CorruptRecordException if it does not authenticate under its key
     */
    byte[] open(int keyId, byte[] nonce, int nonceOffset, byte[] aad, int aadLength, byte[] recordKey, byte[] sealed)
            throws SpoolRecord.CorruptRecordException {
        SecretKey key = byId.get(keyId);
        Cipher cipher = openers.get();
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce, nonceOffset, NONCE_BYTES));
            cipher.updateAAD(aad, 0, aadLength);
            if (recordKey != null) {
                cipher.updateAAD(recordKey);
            }
            return cipher.doFinal(sealed);
        } catch (AEADBadTagException e) {
            throw new SpoolRecord.CorruptRecordException(
                    "sealed payload does not authenticate under key " + name(keyId));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
    }

    static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no AES/GCM/NoPadding", e);
        }
    }

    @Override
    public String toString() {
        return "SpoolKeys[file=" + file + ", keys=" + names() + "]";
    }
}
