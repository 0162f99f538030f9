package countersign;

import com.authy.AuthyApiClient;
import com.authy.AuthyException;
import com.authy.AuthyUtil;
import com.authy.api.ApprovalRequestParams;
import com.authy.api.Hash;
import com.authy.api.OneTouchResponse;
import com.authy.api.Params;
import com.authy.api.PhoneInfoResponse;
import com.authy.api.Token;
import com.authy.api.User;
import com.authy.api.UserStatus;
import com.authy.api.Verification;
import com.sun.net.httpserver.HttpServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Drives a running Countersign server through every public method of the official Authy Java
 * library (com.authy:authy-java 1.5.1), unchanged, and prints one line per call:
 * {@code java <method> ok} or {@code java <method> FAILED <why>}, then a summary line.
 *
 * <pre>java countersign.AuthyJavaDriver BASE_URL API_KEY CALLBACK_PORT CA_FILE|- OUTBOX_COMMAND...</pre>
 *
 * With a CA file the server speaks TLS: the library's two-argument constructor (which insists
 * on HTTPS) is used, after the CA is trusted the way an operator would trust a private CA.
 * Without one, the three-argument constructor with its plain-HTTP flag is used.
 */
public final class AuthyJavaDriver {
    private final String apiKey;
    private final String callbackUrl;
    private final List<String> outbox;
    private final LinkedBlockingQueue<Callback> callbacks = new LinkedBlockingQueue<>();
    private final AuthyApiClient client;
    private final String baseUrl;
    private final boolean tls;
    private int passed;
    private int failed;

    /** One callback as the server delivered it: a JSON body (POST) or query parameters (GET). */
    private record Callback(String method, Map<String, String> headers, String body, Map<String, String> query) {
        String uuid() {
            return method.equals("GET") ? query.get("uuid") : new JSONObject(body).getString("uuid");
        }

        String status() {
            return method.equals("GET") ? query.get("status") : new JSONObject(body).getString("status");
        }

        /** The name of the library's validator for this method. */
        String validator() {
            return method.equals("GET") ? "AuthyUtil.validateSignatureForGet" : "AuthyUtil.validateSignatureForPost";
        }

        boolean validates(String url, String apiKey) throws Exception {
            return method.equals("GET")
                    ? AuthyUtil.validateSignatureForGet(query, headers, url, apiKey)
                    : AuthyUtil.validateSignatureForPost(body, headers, url, apiKey);
        }

        /** The same callback with another status, as a forger would send it. */
        Callback withStatus(String status) {
            Map<String, String> forgedQuery = new HashMap<>(query);
            forgedQuery.put("status", status);
            String forgedBody = method.equals("GET") ? body : new JSONObject(body).put("status", status).toString();
            return new Callback(method, headers, forgedBody, forgedQuery);
        }
    }

    /** A step that may throw; its failure is reported, not fatal. */
    private interface Step {
        void run() throws Exception;
    }

    private AuthyJavaDriver(String[] args) throws Exception {
        baseUrl = args[0];
        apiKey = args[1];
        int callbackPort = Integer.parseInt(args[2]);
        callbackUrl = "http://127.0.0.1:" + callbackPort + "/authy/callback";
        outbox = Arrays.asList(args).subList(4, args.length);
        tls = !args[3].equals("-");
        if (tls) {
            trust(args[3]);
            client = new AuthyApiClient(apiKey, baseUrl);
        } else {
            client = new AuthyApiClient(apiKey, baseUrl, true);
        }
        listen(callbackPort);
    }

    public static void main(String[] args) throws Exception {
        AuthyJavaDriver driver = new AuthyJavaDriver(args);
        driver.runAll();
        System.out.printf("java (%s): %d passed, %d failed%n", driver.tls ? "https" : "http", driver.passed,
                driver.failed);
        System.exit(driver.failed == 0 ? 0 : 1);
    }

    /** Trusts the test CA for every HTTPS connection, as a JVM truststore would. */
    private static void trust(String caFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(caFile)) {
            store.setCertificateEntry("countersign-test-ca",
                    CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        HttpsURLConnection.setDefaultSSLSocketFactory(context.getSocketFactory());
    }

    private void listen(int port) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/authy/callback", exchange -> {
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(canonical(name), values.get(0)));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String method = exchange.getRequestMethod();
            callbacks.add(new Callback(method, headers, body, query(exchange.getRequestURI().getRawQuery())));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.setExecutor(null);
        server.start();
    }

    /** Query parameters as the flat map a servlet would hand over. */
    private static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int equals = pair.indexOf('=');
            String key = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            params.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return params;
    }

    /** The header spelling AuthyUtil looks up (the JDK server capitalises only the first letter). */
    private static String canonical(String name) {
        for (String known : List.of(AuthyUtil.HEADER_AUTHY_SIGNATURE, AuthyUtil.HEADER_AUTHY_SIGNATURE_NONCE)) {
            if (known.equalsIgnoreCase(name)) {
                return known;
            }
        }
        return name;
    }

    private void check(String method, boolean ok, Object detail) {
        if (ok) {
            passed++;
            System.out.println("java " + method + " ok");
        } else {
            failed++;
            System.out.println("java " + method + " FAILED " + detail);
        }
    }

    private void step(String method, Step step) {
        try {
            step.run();
        } catch (Exception | Error e) {
            check(method, false, "threw " + e);
        }
    }

    /** The code in the newest message the server's log sender delivered to this number. */
    private String lastCode(String recipient) throws Exception {
        Process process = new ProcessBuilder(outbox).redirectErrorStream(false).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        JSONArray messages = new JSONArray(out);
        for (int i = messages.length() - 1; i >= 0; i--) {
            JSONObject message = messages.getJSONObject(i);
            if (message.getString("recipient").equals(recipient)) {
                Matcher digits = Pattern.compile("\\d{4,10}").matcher(message.getString("text"));
                String code = null;
                while (digits.find()) {
                    code = digits.group();
                }
                return code;
            }
        }
        return null;
    }

    private void runAll() {
        int[] id = {0};
        step("users.createUser", () -> id[0] = users());
        if (id[0] == 0) {
            return;
        }
        step("users.requestSms", () -> sms(id[0]));
        step("users.requestCall", () -> call(id[0]));
        step("users.requestStatus", () -> status(id[0]));
        step("oneTouch.sendApprovalRequest", () -> oneTouch(id[0]));
        step("phoneVerification.start", this::phoneVerification);
        step("phoneInfo.info", this::phoneInfo);
        step("AuthyApiClient constructors", () -> constructors(id[0]));
        step("users.deleteUser", () -> delete(id[0]));
    }

    private int users() throws Exception {
        User user = client.getUsers().createUser("luna@hogwarts.example", "351-338-9310", "54");
        check("users.createUser", user.isOk() && user.getId() > 0, user.getError());
        User again = client.getUsers().createUser("luna@hogwarts.example", "351 338 9310", "54");
        check("users.createUser twice gives the same id", again.getId() == user.getId(), again.getId());
        User american = client.getUsers().createUser("neville@hogwarts.example", "201-555-0123");
        check("users.createUser (default country 1)", american.isOk() && american.getId() > 0, american.getError());
        User bad = client.getUsers().createUser("not-an-email", "12", "54");
        check("users.createUser invalid", !bad.isOk() && bad.getError() != null
                && bad.getError().getMessage() != null, bad.getError());
        return user.getId();
    }

    private void sms(int id) throws Exception {
        Hash sms = client.getUsers().requestSms(id, Map.of("force", "true"));
        check("users.requestSms(force)", sms.isOk() && sms.isSuccess()
                && "SMS token was sent".equals(sms.getMessage()), sms.getError());
        String code = lastCode("+543513389310");
        check("users.requestSms delivers a 7-digit code", code != null && code.length() == 7, code);
        Token token = client.getTokens().verify(id, code);
        check("tokens.verify", token.isOk(), "isOk false");
        String wrong = String.format("%07d", (Integer.parseInt(code) + 1) % 10_000_000);
        try {
            client.getTokens().verify(id, wrong, Map.of("force", "true"));
            check("tokens.verify(force) wrong code", false, "no AuthyException");
        } catch (AuthyException e) {
            check("tokens.verify(force) wrong code", e.getStatus() == 401
                    && e.getErrorCode() == com.authy.api.Error.Code.TOKEN_INVALID, e.getStatus() + " " + e.getErrorCode());
        }
        Hash plain = client.getUsers().requestSms(id);
        check("users.requestSms", plain.isOk(), plain.getError());
    }

    private void call(int id) throws Exception {
        Hash call = client.getUsers().requestCall(id, Map.of("force", "true"));
        check("users.requestCall(force)", call.isOk() && call.isSuccess() && !call.getMessage().isEmpty(),
                call.getError());
        Hash plain = client.getUsers().requestCall(id);
        check("users.requestCall", plain.isOk(), plain.getError());
    }

    private void status(int id) throws Exception {
        UserStatus status = client.getUsers().requestStatus(id);
        check("users.requestStatus", status.isOk() && status.getUserId() == id && status.getCountryCode() == 54
                && status.getPhoneNumber().endsWith("10") && status.isConfirmed(), status.getError());
        UserStatus unknown = client.getUsers().requestStatus(987654321);
        check("users.requestStatus unknown user", !unknown.isOk() && unknown.getError() != null, unknown.getStatus());
    }

    private void oneTouch(int id) throws Exception {
        ApprovalRequestParams params = new ApprovalRequestParams.Builder(id, "Approve payment")
                .setSecondsToExpire(120L)
                .addDetail("Amount", "713.00 EUR")
                .addHiddenDetail("ip", "10.0.0.1")
                .addLogo(ApprovalRequestParams.Resolution.Default, "https://gringotts.example/logo.png")
                .build();
        OneTouchResponse sent = client.getOneTouch().sendApprovalRequest(params);
        String uuid = sent.getApprovalRequest() == null ? null : sent.getApprovalRequest().getUUID();
        check("oneTouch.sendApprovalRequest", sent.isOk() && sent.isSuccess() && uuid != null, sent.getMessage());
        if (uuid == null) {
            return;
        }
        // The test's device approves it; the callback says so.
        Callback callback = awaitCallback(uuid);
        check("oneTouch callback arrives", callback != null, "none within 20 s");
        OneTouchResponse approved = client.getOneTouch().getApprovalRequestStatus(uuid);
        OneTouchResponse.ApprovalRequest request = approved.getApprovalRequest();
        check("oneTouch.getApprovalRequestStatus", approved.isOk() && approved.isSuccess()
                && "approved".equals(request.getStatus()) && uuid.equals(request.getUUID())
                && request.createdAt() != null, approved.getMessage());
        OneTouchResponse unknown = client.getOneTouch().getApprovalRequestStatus("00000000-0000-0000-0000-000000000000");
        check("oneTouch.getApprovalRequestStatus unknown", !unknown.isOk() && unknown.getError() != null,
                unknown.getErrorCode());
        if (callback != null) {
            validate(callback);
        }
        denial(id);
    }

    /** A request the device denies: its callback validates too. */
    private void denial(int id) throws Exception {
        OneTouchResponse sent = client.getOneTouch()
                .sendApprovalRequest(new ApprovalRequestParams.Builder(id, "Deny payment").build());
        String uuid = sent.getApprovalRequest() == null ? null : sent.getApprovalRequest().getUUID();
        check("oneTouch.sendApprovalRequest (to be denied)", sent.isOk() && uuid != null, sent.getMessage());
        Callback callback = uuid == null ? null : awaitCallback(uuid);
        check("oneTouch denial callback arrives", callback != null, "none within 20 s");
        if (callback == null) {
            return;
        }
        check(callback.validator() + " (denied)", callback.validates(callbackUrl, apiKey)
                && callback.status().equals("denied"), callback);
        OneTouchResponse denied = client.getOneTouch().getApprovalRequestStatus(uuid);
        check("oneTouch.getApprovalRequestStatus denied", "denied".equals(denied.getApprovalRequest().getStatus()),
                denied.getMessage());
    }

    /** The first callback about `uuid` within 20 s (others, e.g. a redelivery, are skipped). */
    private Callback awaitCallback(String uuid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Callback callback = callbacks.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (callback != null && uuid.equals(callback.uuid())) {
                return callback;
            }
        }
        return null;
    }

    private void validate(Callback callback) throws Exception {
        check(callback.validator(), callback.validates(callbackUrl, apiKey) && callback.status().equals("approved"),
                callback);
        boolean tampered = callback.withStatus("denied").validates(callbackUrl, apiKey);
        check(callback.validator() + " rejects a tampered callback", !tampered, "accepted");
    }

    private void phoneVerification() throws Exception {
        Params options = new Params();
        options.setAttribute("code_length", "6");
        Verification start = client.getPhoneVerification().start("351-338-9311", "54", "sms", options);
        check("phoneVerification.start", start.isOk() && start.getMessage() != null, start.getError());
        String code = lastCode("+543513389311");
        String wrong = "000000".equals(code) ? "111111" : "000000";
        Verification bad = client.getPhoneVerification().check("351-338-9311", "54", wrong);
        check("phoneVerification.check wrong code", !bad.isOk() && bad.getError() != null
                && bad.getError().getCode() == com.authy.api.Error.Code.PHONE_VERIFICATION_INCORRECT, bad.getError());
        Verification good = client.getPhoneVerification().check("351-338-9311", "54", code, new Params());
        check("phoneVerification.check", good.isOk() && good.getMessage() != null, good.getError());
    }

    private void phoneInfo() throws Exception {
        PhoneInfoResponse info = client.getPhoneInfo().info("351-338-9311", "54");
        check("phoneInfo.info", info.isOk() && info.getMessage() != null && !info.getType().isEmpty(), info.getError());
        PhoneInfoResponse withParams = client.getPhoneInfo().info("201-555-0123", "1", new Params());
        check("phoneInfo.info(params)", withParams.isOk(), withParams.getError());
    }

    /** The constructor not used for the run: over TLS the test flag one, over HTTP the HTTPS-only one. */
    private void constructors(int id) throws Exception {
        if (tls) {
            UserStatus status = new AuthyApiClient(apiKey, baseUrl, true).getUsers().requestStatus(id);
            check("AuthyApiClient(key, url, true) over HTTPS", status.isOk() && status.getUserId() == id,
                    status.getError());
            return;
        }
        try {
            new AuthyApiClient(apiKey, baseUrl).getUsers().requestStatus(id);
            check("AuthyApiClient(key, url) refuses plain HTTP", false, "a plain-HTTP call went through");
        } catch (ClassCastException e) {
            // The library casts every connection to HttpsURLConnection unless its test flag is set.
            check("AuthyApiClient(key, url) refuses plain HTTP", true, e);
        }
    }

    private void delete(int id) throws Exception {
        Hash deleted = client.getUsers().deleteUser(id);
        check("users.deleteUser", deleted.isOk() && deleted.isSuccess(), deleted.getError());
        UserStatus gone = client.getUsers().requestStatus(id);
        check("users.requestStatus after delete", !gone.isOk(), gone.getStatus());
    }
}
