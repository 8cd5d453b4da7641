// A brand API client in plain Java 17+ (JDK only): signs each request as docs/contract.md §3
// says, verifies each answer as §5.2 says, and runs one upload: init, part, merge, expand.
//
// Configure it with the same variables the userpkg CLI reads (a sandbox's credentials.toml
// holds the values):
//   USERPKG_BASE_URL  USERPKG_BRAND_ID  USERPKG_CERT_SERIAL_NO  USERPKG_PRIVATE_KEY_PATH
//   USERPKG_PLATFORM_PUBLIC_KEY_ID  USERPKG_PLATFORM_PUBLIC_KEY_PATH
//   USERPKG_PACKAGE_ID (optional: a targeted-exposure package to expand the file into)
// Instead of USERPKG_CERT_SERIAL_NO you may set USERPKG_BRAND_CERTIFICATE_PATH: the serial is
// then taken from the certificate as WeChat Pay's Java utility does (hex, no leading zero).
//
//   javac -d out examples/java/BrandApiSample.java && java -cp out BrandApiSample
//   java -cp out BrandApiSample --check-vector tests/vectors/brand_private_key.pem
// Exit status: 0 done, 1 an error answer or a failed check, 3 an answer failed verification.

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class BrandApiSample {
    static final String SCHEME = "WECHATPAY-BRAND-SHA256-RSA2048";
    static final String UPLOADS = "/brand/marketing/user-package/uploads";
    static final SecureRandom RANDOM = new SecureRandom();

    final String baseUrl;
    final String brandId;
    final String serialNo;
    final PrivateKey privateKey;
    final String platformKeyId;
    final PublicKey platformKey;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    BrandApiSample(String baseUrl, String brandId, String serialNo, PrivateKey privateKey,
                   String platformKeyId, PublicKey platformKey) {
        this.baseUrl = baseUrl.replaceAll("/+$", "");
        this.brandId = brandId;
        this.serialNo = serialNo;
        this.privateKey = privateKey;
        this.platformKeyId = platformKeyId;
        this.platformKey = platformKey;
    }

    /** Thrown when an answer's signature, key id or age does not check out: never trust it. */
    static final class UnverifiedAnswer extends Exception {
        UnverifiedAnswer(String why) { super(why); }
    }

    /** §3.2: five lines, each ending in \n; BODY is the exact bytes sent (empty if none). */
    static String sign(PrivateKey key, String method, String canonicalUrl, String timestamp,
                       String nonce, String body) throws Exception {
        String message = method + "\n" + canonicalUrl + "\n" + timestamp + "\n" + nonce + "\n" + body + "\n";
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(message.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(signer.sign());
    }

    /** §3.1: five pairs, no spaces; this is the official Java utility's order (signature third). */
    String authorization(String method, String canonicalUrl, String body) throws Exception {
        String timestamp = Long.toString(System.currentTimeMillis() / 1000);
        String nonce = HexFormat.of().withUpperCase().formatHex(randomBytes(16));
        String signature = sign(privateKey, method, canonicalUrl, timestamp, nonce, body);
        return SCHEME + " brand_id=\"" + brandId + "\",nonce_str=\"" + nonce
                + "\",signature=\"" + signature + "\",timestamp=\"" + timestamp
                + "\",serial_no=\"" + serialNo + "\"";
    }

    /** §5.2, in order: key id, age, presence, probe, then the signature over the raw body. */
    String verified(HttpResponse<byte[]> answer) throws Exception {
        String serial = answer.headers().firstValue("Wechatpay-Serial").orElse("");
        if (!serial.equals(platformKeyId)) {
            throw new UnverifiedAnswer("signed by key " + serial + ", not " + platformKeyId);
        }
        String timestamp = answer.headers().firstValue("Wechatpay-Timestamp").orElse("");
        if (!timestamp.matches("[0-9]{1,12}")
                || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) >= 300) {
            throw new UnverifiedAnswer("Wechatpay-Timestamp missing or 300 s or more away: " + timestamp);
        }
        String nonce = answer.headers().firstValue("Wechatpay-Nonce").orElse("");
        String signature = answer.headers().firstValue("Wechatpay-Signature").orElse("");
        if (nonce.isEmpty() || signature.isEmpty() || signature.startsWith("WECHATPAY/SIGNTEST/")) {
            throw new UnverifiedAnswer("no nonce or signature, or a SIGNTEST probe");
        }
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.writeBytes((timestamp + "\n" + nonce + "\n").getBytes(StandardCharsets.UTF_8));
        message.writeBytes(answer.body());
        message.write('\n');
        Signature verifier = Signature.getInstance("SHA256withRSA");
        verifier.initVerify(platformKey);
        verifier.update(message.toByteArray());
        boolean good;
        try {
            good = verifier.verify(Base64.getDecoder().decode(signature));
        } catch (IllegalArgumentException | java.security.SignatureException e) {
            good = false;
        }
        if (!good) {
            throw new UnverifiedAnswer("Wechatpay-Signature does not verify");
        }
        String body = new String(answer.body(), StandardCharsets.UTF_8);
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + answer.statusCode() + " (verified) "
                    + answer.headers().firstValue("Request-ID").orElse("") + ": " + body);
        }
        return body;
    }

    String send(String method, String path, String contentType, String signedBody, byte[] wireBody)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", authorization(method, path, signedBody))
                .header("Accept", "application/json")
                .header("Wechatpay-Serial", platformKeyId)
                .method(method, wireBody == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(wireBody));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return verified(http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray()));
    }

    String postJson(String path, String json) throws Exception {
        return send("POST", path, "application/json", json, json.getBytes(StandardCharsets.UTF_8));
    }

    /** §6.2: the signed BODY is the file_meta part's exact bytes, not the whole multipart body. */
    String uploadPart(String uploadId, int number, byte[] part) throws Exception {
        String meta = "{\"filename\":\"part-" + number + ".csv\",\"digest\":\"" + sha256(part) + "\"}";
        String boundary = "----userpkg" + HexFormat.of().formatHex(randomBytes(12));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file_meta\"\r\n"
                + "Content-Type: application/json\r\n\r\n" + meta + "\r\n--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"part-" + number + ".csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(part);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send("PUT", UPLOADS + "/" + uploadId + "/" + number,
                "multipart/form-data; boundary=" + boundary, meta, body.toByteArray());
    }

    void run(String packageId) throws Exception {
        byte[] file = ("oSampleOpenid" + HexFormat.of().formatHex(randomBytes(8)) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        String filename = "java_sample_" + HexFormat.of().formatHex(randomBytes(6)) + ".csv";
        String init = postJson(UPLOADS, "{\"user_package_file_info\":{\"filename\":\"" + filename
                + "\",\"digest\":\"" + sha256(file) + "\",\"file_size\":" + file.length
                + ",\"package_type\":\"USER_PACKAGE_TYPE_TARGETED_EXPOSURE\""
                + ",\"data_type\":\"USER_PACKAGE_DATA_TYPE_OPENID\""
                + ",\"description\":\"pushed by the JDK-only Java sample\"}}");
        String uploadId = field(init, "upload_id");
        System.out.println("init upload  " + uploadId + " (serial_no " + serialNo + ")");
        System.out.println("upload part  " + uploadPart(uploadId, 1, file));
        System.out.println("merge        " + send("POST", UPLOADS + "/" + uploadId, null, "", null));
        if (packageId == null || packageId.isEmpty()) {
            return;
        }
        String path = "/brand/marketing/user-package/user-packages/" + packageId + "/expand";
        for (int attempt = 0; attempt < 120; attempt++) {
            String state = field(postJson(path, "{\"upload_id\":\"" + uploadId + "\"}"), "state");
            System.out.println("expand       " + state);
            if (state.endsWith("_FINISHED") || state.endsWith("_FAILED")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("expand did not finish in 30 s");
    }

    /** The string value of a top-level field; a real client would use its JSON library. */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }

    static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static byte[] pem(Path path, String label) throws IOException {
        String text = Files.readString(path);
        int begin = text.indexOf("-----BEGIN " + label + "-----");
        int end = text.indexOf("-----END " + label + "-----");
        if (begin < 0 || end < 0) {
            throw new IOException(path + " has no " + label + " block");
        }
        String base64 = text.substring(begin + label.length() + 16, end).replaceAll("\\s", "");
        return Base64.getDecoder().decode(base64);
    }

    static PrivateKey privateKey(Path path) throws Exception {
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pem(path, "PRIVATE KEY")));
    }

    static PublicKey publicKey(Path path) throws Exception {
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(pem(path, "PUBLIC KEY")));
    }

    /** The serial as WeChat Pay's Java utility computes it: no leading zero, upper case. */
    static String serialFromCertificate(Path path) throws Exception {
        try (InputStream in = new FileInputStream(path.toFile())) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return cert.getSerialNumber().toString(16).toUpperCase();
        }
    }

    static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("set " + name + " (see the comment at the top)");
        }
        return value;
    }

    /** The init-upload worked example of docs/contract.md §3.3, reproduced byte for byte. */
    static boolean checkVector(Path keyPath) throws Exception {
        String body = "{\"user_package_file_info\":{\"filename\":\"members_2026_11.csv\",\"digest\":"
                + "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"file_size\":4,"
                + "\"package_type\":\"USER_PACKAGE_TYPE_TARGETED_EXPOSURE\",\"data_type\":"
                + "\"USER_PACKAGE_DATA_TYPE_OPENID\",\"description\":\"members who bought twice in 2026\"}}";
        String expected = "PrK1EmucUj1jO3fgzgg3yT3vAZG3jXd2V/cd4Z4QD8NJbEatk7P+nQ+sBa+L5E7VTdq+oxeDTJviCZMEKNLl"
                + "1WzCOMm+1Gpdw+4fC4tRBwGCfqQ3YmGfTKqTFStSzjAYR7E99d8uhFvECN2u6ck8rKwGhs36wcXny3j6WXPWF1TE7t"
                + "dBcaJLZoQq1nZwoUUIjcLb2shrfzcHzzhouHTLVgfVocMHr2lx9+E8lqZq4aazB7r9/5FCmmxiOpjvFcbN5sNHb6Rbf"
                + "27gCV1ftYPyQ6m/2ZjtN40NOTx9LltLxm5BuOLt7h2Rn04ld/oQOZkiVrFhVxDm7+wGjGItTkf/mQ==";
        String got = sign(privateKey(keyPath), "POST", UPLOADS, "1764201600",
                "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", body);
        System.out.println(got.equals(expected) ? "vector: signature matches" : "vector: MISMATCH " + got);
        return got.equals(expected);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--check-vector")) {
            System.exit(checkVector(Path.of(args[1])) ? 0 : 1);
        }
        String serial = System.getenv("USERPKG_CERT_SERIAL_NO");
        if (serial == null || serial.isEmpty()) {
            serial = serialFromCertificate(Path.of(env("USERPKG_BRAND_CERTIFICATE_PATH")));
        }
        BrandApiSample client = new BrandApiSample(env("USERPKG_BASE_URL"), env("USERPKG_BRAND_ID"), serial,
                privateKey(Path.of(env("USERPKG_PRIVATE_KEY_PATH"))), env("USERPKG_PLATFORM_PUBLIC_KEY_ID"),
                publicKey(Path.of(env("USERPKG_PLATFORM_PUBLIC_KEY_PATH"))));
        try {
            client.run(System.getenv("USERPKG_PACKAGE_ID"));
        } catch (UnverifiedAnswer e) {
            System.err.println("answer failed verification: " + e.getMessage());
            System.exit(3);
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }
}
