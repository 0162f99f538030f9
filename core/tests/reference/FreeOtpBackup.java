// Writes FreeOTP 2 backup fixtures with the JDK's own classes — javax.crypto's
// PBKDF2WithHmacSHA512 and AES/GCM, and java.io.ObjectOutputStream — the way FreeOTP
// (freeotp-android, mobile/…/TokenPersistence.java, encryptor/MasterKey.java,
// encryptor/EncryptedKey.java) writes `externalBackup.xml`: the backup SharedPreferences
// map (`masterKey`, `<uuid>`, `<uuid>-token`) serialised as a java.util.HashMap.
// Independent of Countersign's Rust reader. Deterministic (fixed salt, keys and IVs):
//
//     java core/tests/reference/FreeOtpBackup.java core/tests/fixtures/import/freeotp core/fuzz/seeds/transfer
//
// Outputs: freeotp-v2-backup.xml (the Java serialization stream FreeOTP writes),
// freeotp-v2-tokenBackup.xml (the same map as the app's SharedPreferences XML) and
// freeotp-v2-hostile-iterations.xml (a master key asking for 10^8 iterations); into the
// optional second directory, a fuzz seed with 1,000 iterations (the fuzzer's small budget).
// Password: "freeotp-password".

import java.io.FileOutputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

public class FreeOtpBackup {
    static final String PASSWORD = "freeotp-password";
    static final int ITERATIONS = 100000;

    static byte[] pattern(int start, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) out[i] = (byte) (start + i * 7);
        return out;
    }

    static String bytes(byte[] data) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < data.length; i++) {
            if (i > 0) sb.append(',');
            sb.append((int) data[i]);
        }
        return sb.append(']').toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\');
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    /** EncryptedKey as Gson writes it: AES/GCM under `key`, AAD = the token's algorithm. */
    static String encryptedKey(byte[] key, byte[] iv, byte[] plaintext, String token) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
        cipher.updateAAD(token.getBytes(StandardCharsets.UTF_8));
        byte[] ct = cipher.doFinal(plaintext);
        byte[] params = cipher.getParameters().getEncoded();
        return "{\"mCipherText\":" + bytes(ct) + ",\"mParameters\":" + bytes(params)
                + ",\"mCipher\":\"AES/GCM/NoPadding\",\"mToken\":" + quote(token) + "}";
    }

    static String masterKey(byte[] master, byte[] salt, int iterations) throws Exception {
        SecretKeyFactory skf = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512");
        int derived = Math.min(iterations, ITERATIONS); // the hostile file's key is never tried
        byte[] pwd = skf.generateSecret(new PBEKeySpec(PASSWORD.toCharArray(), salt, derived, 256)).getEncoded();
        String wrapped = encryptedKey(pwd, pattern(0x10, 12), master, "AES");
        return "{\"mEncryptedKey\":" + wrapped + ",\"mAlgorithm\":\"PBKDF2withHmacSHA512\",\"mIterations\":"
                + iterations + ",\"mSalt\":" + bytes(salt) + "}";
    }

    static void token(Map<String, String> map, byte[] master, String uuid, int ivStart, String algo,
                      byte[] secret, String tokenJson) throws Exception {
        String key = encryptedKey(master, pattern(ivStart, 12), secret, "Hmac" + algo);
        map.put(uuid, "{\"key\":" + quote(key) + "}");
        map.put(uuid + "-token", tokenJson);
    }

    static Map<String, String> backup(int iterations) throws Exception {
        byte[] master = pattern(0x40, 32);
        Map<String, String> map = new HashMap<>();
        map.put("masterKey", masterKey(master, pattern(1, 32), iterations));
        token(map, master, "0b7d5a3e-5d8a-4f7e-9c1a-1f2e3d4c5b6a", 0x21, "SHA1",
                "Hello!\u00de\u00ad\u00be\u00efHello!\u00de\u00ad\u00be\u00ef".getBytes(StandardCharsets.ISO_8859_1),
                "{\"algo\":\"SHA1\",\"issuerExt\":\"GitHub\",\"issuerInt\":\"GitHub\",\"label\":\"alice@example.com\","
                        + "\"period\":30,\"digits\":6,\"type\":\"TOTP\"}");
        token(map, master, "1c8e6b4f-6e9b-4a8f-8d2b-2a3b4c5d6e7f", 0x31, "SHA256",
                "12345678901234567890123456789012".getBytes(StandardCharsets.US_ASCII),
                "{\"algo\":\"SHA256\",\"issuerInt\":\"VPN\",\"label\":\"carol \u2615 \ud83d\udd11\","
                        + "\"digits\":8,\"type\":\"HOTP\",\"counter\":42}");
        token(map, master, "2d9f7c50-7fac-4b90-9e3c-3b4c5d6e7f80", 0x41, "SHA1",
                pattern(0x55, 10),
                "{\"algo\":\"SHA1\",\"issuerExt\":\"Steam\",\"label\":\"gaben\",\"digits\":5,\"type\":\"TOTP\"}");
        // Broken: the secret was sealed under another key (the tag does not verify).
        token(map, pattern(0x70, 32), "3ea08d61-80bd-4ca1-8f4d-4c5d6e7f8091", 0x51, "SHA1",
                pattern(0x66, 20),
                "{\"algo\":\"SHA1\",\"issuerExt\":\"Broken\",\"label\":\"sealed elsewhere\",\"type\":\"TOTP\"}");
        // Broken: a key without its token.
        map.put("4fb19e72-91ce-4db2-903e-5d6e7f8091a2",
                "{\"key\":" + quote(encryptedKey(master, pattern(0x61, 12), pattern(1, 20), "HmacSHA1")) + "}");
        return map;
    }

    static void writeSerialized(Map<String, String> map, Path path) throws Exception {
        try (ObjectOutputStream out = new ObjectOutputStream(new FileOutputStream(path.toFile()))) {
            out.writeObject(map);
        }
    }

    static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The map as Android's XmlUtils.writeMapXml writes a SharedPreferences file. */
    static void writePrefs(Map<String, String> map, Path path) throws Exception {
        StringBuilder sb = new StringBuilder("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n");
        for (Map.Entry<String, String> e : map.entrySet()) {
            sb.append("    <string name=\"").append(xmlEscape(e.getKey())).append("\">")
                    .append(xmlEscape(e.getValue())).append("</string>\n");
        }
        sb.append("</map>\n");
        Files.write(path, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : ".");
        Files.createDirectories(dir);
        Map<String, String> map = backup(ITERATIONS);
        writeSerialized(map, dir.resolve("freeotp-v2-backup.xml"));
        writePrefs(map, dir.resolve("freeotp-v2-tokenBackup.xml"));
        Map<String, String> hostile = new HashMap<>();
        hostile.put("masterKey", masterKey(pattern(0x40, 32), pattern(1, 32), 100000000));
        writeSerialized(hostile, dir.resolve("freeotp-v2-hostile-iterations.xml"));
        if (args.length > 1) {
            writeSerialized(backup(1000), Path.of(args[1]).resolve("freeotp-v2-small.ser"));
        }
    }
}
