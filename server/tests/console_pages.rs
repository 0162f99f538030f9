//! The console's operations pages over HTTP, signed in as an operator (password and TOTP):
//! user search (each key, exact and prefix; wildcards and injection inert), a user's page,
//! revoking a device and deleting a user (both audited, both refused cross-site or without
//! the CSRF token), the approval list and its JSON, an approved request's page whose evidence
//! is verified by the page's own script (under Node), by Python's `cryptography` and by the
//! server, deliveries, usage charts and the audit trail; hostile text rendered escaped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use reqwest::blocking::{Client, Response};
use reqwest::header;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "ops@example.com";
const COOKIE: &str = "__Host-countersign_session";

/// A server, a signed-in operator and a client that follows no redirect.
struct Console {
    server: common::Server,
    client: Client,
    cookie: String,
}

fn create_operator(server: &common::Server) -> String {
    let mut child = server
        .command()
        .args([
            "operator",
            "create",
            "--email",
            EMAIL,
            "--totp",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .unwrap()
        .to_owned()
}

fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Host-countersign_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Console {
    fn start() -> Console {
        let server = common::Server::start(&common::Options::default());
        let totp_uri = create_operator(&server);
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut console = Console {
            server,
            client,
            cookie: String::new(),
        };
        let response = console.post(
            "/console/login",
            &[("email", EMAIL), ("password", PASSWORD)],
        );
        assert_eq!(response.status(), 303);
        console.cookie = session_cookie(&response).unwrap();
        let page = console.text("/console/login/second-factor");
        let account = countersign_otp::otpauth::parse(&totp_uri).unwrap().account;
        let code = account.code_at(unix_now()).code.to_string();
        let response = console.post(
            "/console/login/totp",
            &[("csrf", &csrf_in(&page)), ("code", &code)],
        );
        assert_eq!(response.status(), 303, "{:?}", response.text());
        console.cookie = session_cookie(&response).unwrap();
        console
    }

    fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.server.base_url))
            .header(header::COOKIE, format!("{COOKIE}={}", self.cookie))
            .send()
            .unwrap()
    }

    /// A page that must answer 200, as text.
    fn text(&self, path: &str) -> String {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "{path}");
        response.text().unwrap()
    }

    fn post_from(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.server.base_url))
            .header(header::COOKIE, format!("{COOKIE}={}", self.cookie))
            .form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.send().unwrap()
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_from(path, form, Some(&self.server.base_url.clone()))
    }

    /// An Authy API call with the app's key.
    fn api(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.client
            .post(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
            .form(form)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn api_get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn user(&self, email: &str, phone: &str, country: &str) -> i64 {
        let created = self.api(
            "/protected/json/users/new",
            &[
                ("user[email]", email),
                ("user[cellphone]", phone),
                ("user[country_code]", country),
            ],
        );
        created["user"]["id"].as_i64().expect("a user id")
    }

    /// The Authy ids a search page lists.
    fn search(&self, text: &str) -> Vec<i64> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", text)
            .finish();
        let page = self.text(&format!("/console/users?{query}"));
        page.split("href=\"/console/users/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect()
    }
}

#[test]
fn search_finds_users_by_authy_id_email_and_phone_exactly_or_by_prefix() {
    let console = Console::start();
    let ann = console.user("Ann.Smith@example.com", "555-010-0001", "1");
    let bob = console.user("bob@example.org", "7700900123", "44");
    let carol = console.user("carol@example.net", "555-010-0002", "1");
    assert_eq!(console.search(&ann.to_string()), [ann], "an Authy id");
    assert_eq!(console.search(&bob.to_string()), [bob]);
    assert_eq!(console.search("ann.smith@example.com"), [ann], "any case");
    assert_eq!(console.search("ANN.SM"), [ann], "an email prefix");
    assert_eq!(console.search("bob@example.org"), [bob]);
    assert_eq!(console.search("7700900123"), [bob], "a whole phone number");
    assert_eq!(
        console.search("+44 7700 900"),
        [bob],
        "country code and a prefix"
    );
    assert_eq!(console.search("555-010"), [ann, carol], "a phone prefix");
    assert_eq!(console.search("5550100002"), [carol]);
    assert!(console.search("dave@example.com").is_empty());
    // Deleted users are not found.
    console.api(&format!("/protected/json/users/{carol}/remove"), &[]);
    assert_eq!(console.search("555-010"), [ann]);
}

#[test]
fn wildcards_and_sql_in_a_search_are_only_text() {
    let console = Console::start();
    let plain = console.user("ann@example.com", "555-010-0011", "1");
    let odd = console.user("50%_off@example.com", "555-010-0012", "1");
    for text in [
        "%",
        "_",
        "a%",
        "%@example.com",
        "\\",
        "' OR '1'='1",
        "1 OR 1=1",
        "%' --",
    ] {
        assert!(console.search(text).is_empty(), "{text:?} matched");
    }
    assert_eq!(
        console.search("50%_"),
        [odd],
        "the characters match themselves"
    );
    assert_eq!(console.search("ann@"), [plain]);
    // Over-long text finds nothing and costs nothing.
    assert!(console.search(&"a".repeat(10_000)).is_empty());
    // The table is still there.
    assert_eq!(console.search("ann@example.com"), [plain]);
}

/// A device registered for `user` through the device API, as the phone app does it.
fn register_device(console: &Console, user: i64) -> (i64, SoftwareSigner) {
    let server = &console.server;
    let registration = common::phone::Registration {
        push_token: Some("push-token-1"),
        ..Default::default()
    };
    let phone = common::phone::register_as(
        &server.base_url,
        &server.api_key,
        server.client(),
        user,
        &registration,
    );
    (phone.id, phone.signer)
}

#[test]
fn a_user_page_shows_devices_and_verifications_and_a_revoke_is_audited() {
    let console = Console::start();
    let user = console.user("hermione@example.com", "555-010-0021", "1");
    let (device_id, _) = register_device(&console, user);
    let wrong = console
        .client
        .get(format!(
            "{}/protected/json/verify/0000000/{user}?force=true",
            console.server.base_url
        ))
        .header("X-Authy-API-Key", &console.server.api_key)
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let path = format!("/console/users/{user}");
    // Outcomes are written in batches every half second (service::verification_log): poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let page = loop {
        let page = console.text(&path);
        if page.contains("<td>invalid</td>") || std::time::Instant::now() > deadline {
            break page;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        page.contains("hermione@example.com") && page.contains("Pixel 9"),
        "{page}"
    );
    assert!(
        page.contains("<td>invalid</td>"),
        "the failed verification is listed: {page}"
    );
    assert!(!page.contains("0000000"), "never the code");
    let revoke = format!("/console/users/{user}/devices/{device_id}/revoke");
    let csrf = csrf_in(&page);
    // Refused without the token, with another token, and from another site.
    assert_eq!(console.post(&revoke, &[]).status(), 403);
    assert_eq!(console.post(&revoke, &[("csrf", "x")]).status(), 403);
    let cross = console.post_from(&revoke, &[("csrf", &csrf)], Some("https://evil.example"));
    assert_eq!(cross.status(), 403);
    let devices = console.api_get(&format!("/protected/json/users/{user}/devices"));
    assert_eq!(
        devices["devices"][0]["revoked"], false,
        "nothing changed yet"
    );

    let done = console.post(&revoke, &[("csrf", &csrf)]);
    assert_eq!(done.status(), 303);
    let devices = console.api_get(&format!("/protected/json/users/{user}/devices"));
    assert_eq!(devices["devices"][0]["revoked"], true);
    assert!(console.text(&path).contains("revoked"));
    // A device that is not this user's is not found.
    let other = console.user("ron@example.com", "555-010-0022", "1");
    let elsewhere = format!("/console/users/{other}/devices/{device_id}/revoke");
    assert_eq!(console.post(&elsewhere, &[("csrf", &csrf)]).status(), 404);

    let audit = console.text(&format!("/console/audit?subject=user:{user}"));
    assert!(
        audit.contains("device.revoke") && audit.contains("operator:"),
        "{audit}"
    );
}

#[test]
fn deleting_a_user_asks_first_then_deletes_and_is_audited() {
    let console = Console::start();
    let user = console.user("neville@example.com", "555-010-0031", "1");
    let confirm = console.text(&format!("/console/users/{user}/delete"));
    assert!(confirm.contains("neville@example.com"));
    let action = format!("/console/users/{user}/delete");
    assert_eq!(console.post(&action, &[]).status(), 403);
    assert_eq!(
        console.search("neville@"),
        [user],
        "not deleted by a refused post"
    );
    assert_eq!(
        console
            .post(&action, &[("csrf", &csrf_in(&confirm))])
            .status(),
        200
    );
    assert!(console.search("neville@").is_empty());
    let status = console.api_get(&format!("/protected/json/users/{user}/status"));
    assert_eq!(
        status["success"], false,
        "the API no longer knows the user: {status}"
    );
    assert_eq!(console.get(&format!("/console/users/{user}")).status(), 404);
    let audit = console.text(&format!("/console/audit?subject=user:{user}"));
    assert!(audit.contains("user.delete"), "{audit}");
}

/// Creates an approval request for `user`; its uuid.
fn approval_request(console: &Console, user: i64, message: &str, amount: &str) -> String {
    let created = console.api(
        &format!("/onetouch/json/users/{user}/approval_requests"),
        &[
            ("message", message),
            ("details[Amount]", amount),
            ("details[Payee]", "Hermione Granger"),
            ("hidden_details[Payment ID]", "P-2291"),
            ("logos[0][res]", "default"),
            ("logos[0][url]", "https://bank.example/logo.png"),
        ],
    );
    created["approval_request"]["uuid"]
        .as_str()
        .expect("a uuid")
        .to_owned()
}

/// The device fetches its challenge, checks it, and approves exactly what it shows.
fn approve(console: &Console, device_id: i64, signer: &SoftwareSigner, uuid: &str) {
    let path = "/device/v1/approval_requests";
    let (time, nonce) = (unix_now(), format!("g{}", unix_now()));
    let message = device::request_string("GET", path, time, &nonce, b"");
    let listed: Value = console
        .client
        .get(format!("{}{path}", console.server.base_url))
        .header("X-Countersign-Device", device_id.to_string())
        .header("X-Countersign-Timestamp", time.to_string())
        .header("X-Countersign-Nonce", &nonce)
        .header(
            "X-Countersign-Signature",
            URL_SAFE_NO_PAD.encode(signer.sign_raw(message.as_bytes()).unwrap()),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let challenge: Value = listed["approval_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jws| {
            let payload = jws.as_str().unwrap().split('.').nth(1).unwrap();
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        })
        .find(|c: &Value| c["uuid"] == uuid)
        .expect("the challenge");
    let details: Vec<(String, String)> =
        serde_json::from_value(challenge["details"].clone()).unwrap();
    let shown = device::displayed_content(challenge["message"].as_str().unwrap(), &details);
    use sha2::Digest;
    let content = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(shown.as_bytes()));
    let payload = json!({
        "v": 1, "typ": "payment-approval", "uuid": uuid, "nonce": challenge["nonce"],
        "device_id": device_id, "decision": "approve", "content_sha256": content,
        "hidden_details_sha256": challenge["hidden_details_sha256"], "iat": unix_now(),
    });
    let header =
        json!({"alg": "ES256", "typ": "countersign-answer+jws", "kid": device_id.to_string()});
    let jws = device::sign_compact(&header, payload.to_string().as_bytes(), signer).unwrap();
    let body = json!({"answer": jws}).to_string();
    let path = format!("/device/v1/approval_requests/{uuid}/answer");
    let (time, nonce) = (unix_now(), format!("a{}", unix_now()));
    let message = device::request_string("POST", &path, time, &nonce, body.as_bytes());
    let answered = console
        .client
        .post(format!("{}{path}", console.server.base_url))
        .header("X-Countersign-Device", device_id.to_string())
        .header("X-Countersign-Timestamp", time.to_string())
        .header("X-Countersign-Nonce", &nonce)
        .header(
            "X-Countersign-Signature",
            URL_SAFE_NO_PAD.encode(signer.sign_raw(message.as_bytes()).unwrap()),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(answered.status(), 200, "{:?}", answered.text());
}

/// The value of attribute `name` of the element with id `id` (HTML entities decoded).
fn attribute(page: &str, id: &str, name: &str) -> String {
    let element = &page[page.find(&format!("id=\"{id}\"")).expect(id)..];
    let element = &element[..element.find('>').unwrap()];
    let at = element.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
    unescape(element[at..].split('"').next().unwrap())
}

/// The text of the element with id `id`.
fn element_text(page: &str, id: &str) -> String {
    let element = &page[page.find(&format!("id=\"{id}\"")).expect(id)..];
    let text = &element[element.find('>').unwrap() + 1..];
    unescape(&text[..text.find('<').unwrap()])
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What evidence.js reads from the page: the JWS, the JWK and the shown content.
fn page_evidence(page: &str) -> Value {
    let details: Vec<Value> = page
        .split("data-detail-key=\"")
        .skip(1)
        .map(|rest| {
            let key = unescape(rest.split('"').next().unwrap());
            let value = &rest[rest.find("data-detail-value>").unwrap() + 18..];
            json!([key, unescape(&value[..value.find('<').unwrap()])])
        })
        .collect();
    json!({
        "jws": attribute(page, "evidence", "data-jws"),
        "jwk": serde_json::from_str::<Value>(&attribute(page, "evidence", "data-jwk")).unwrap(),
        "shown": {
            "uuid": attribute(page, "evidence", "data-uuid"),
            "message": element_text(page, "shown-message"),
            "details": details,
            "number": null,
        },
    })
}

/// The page's own script, run by Node on `evidence`: (signature valid, content matches).
fn browser_check(evidence: &Value) -> (bool, bool) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/console/check_page_evidence.js"
    );
    let node = std::env::var("COUNTERSIGN_NODE").unwrap_or_else(|_| "node".to_owned());
    let mut child = Command::new(&node)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("Node.js is needed for this test ({node}): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(evidence.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    (outcome["signature"] == true, outcome["matches"] == true)
}

/// Python's `cryptography` verifies the JWS with the JWK's coordinates.
fn python_verifies(jws: &str, jwk: &Value) -> bool {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let program = r#"
import base64, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def b64(text): return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
jws, jwk = sys.argv[1], json.loads(sys.argv[2])
key = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"), ec.SECP256R1()).public_key()
head, body, sig = jws.split(".")
raw = b64(sig)
try:
    key.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")), (head + "." + body).encode(), ec.ECDSA(hashes.SHA256()))
    print("valid")
except InvalidSignature:
    print("invalid")
"#;
    let out = Command::new(python)
        .args(["-c", program, jws, &jwk.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim() == "valid"
}

#[test]
fn an_approved_requests_page_carries_evidence_the_browser_python_and_server_verify() {
    let console = Console::start();
    let user = console.user("harry@example.com", "555-010-0041", "1");
    let (device_id, signer) = register_device(&console, user);
    let uuid = approval_request(&console, user, "Approve payment", "713.00 EUR");
    let pending = console.text(&format!("/console/approvals/{uuid}"));
    assert!(pending.contains("No device has answered"));
    approve(&console, device_id, &signer, &uuid);

    let page = console.text(&format!("/console/approvals/{uuid}"));
    assert_eq!(element_text(&page, "shown-message"), "Approve payment");
    assert!(page.contains("713.00 EUR") && page.contains("Hermione Granger"));
    assert!(page.contains("https://bank.example/logo.png") && page.contains("P-2291"));
    assert_eq!(element_text(&page, "request-state"), "approved");
    assert!(
        page.contains("/console/assets/evidence.js?v="),
        "the checking script is loaded"
    );
    let server_verdict = &page[page.find("id=\"evidence-server-verdict\"").unwrap()..];
    assert!(
        server_verdict
            .starts_with("id=\"evidence-server-verdict\"><span class=\"good\">verified</span>"),
        "{server_verdict}"
    );

    let evidence = page_evidence(&page);
    assert_eq!(
        evidence["shown"]["details"],
        json!([["Amount", "713.00 EUR"], ["Payee", "Hermione Granger"]])
    );
    let spki = signer.public_key_spki().unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(evidence["jwk"]["x"].as_str().unwrap())
            .unwrap(),
        spki[27..59]
    );
    assert_eq!(browser_check(&evidence), (true, true));
    let jws = evidence["jws"].as_str().unwrap();
    assert!(python_verifies(jws, &evidence["jwk"]));

    // What the page shows changed (a different amount): the signature holds, the content not.
    let mut altered = evidence.clone();
    altered["shown"]["details"][0][1] = json!("7130.00 EUR");
    assert_eq!(browser_check(&altered), (true, false));
    // The JWS tampered with (its payload re-encoded with another amount hash): not valid.
    let parts: Vec<&str> = jws.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["decision"] = json!("deny");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    let mut tampered = evidence.clone();
    tampered["jws"] = json!(forged);
    assert_eq!(browser_check(&tampered), (false, false));
    assert!(!python_verifies(&forged, &evidence["jwk"]));
}

#[test]
fn the_approval_list_filters_and_its_json_feeds_the_polling_script() {
    let console = Console::start();
    let user = console.user("luna@example.com", "555-010-0051", "1");
    let uuid = approval_request(&console, user, "Open the vault", "1.00 EUR");
    let page = console.text("/console/approvals?state=pending");
    assert!(page.contains(&uuid) && page.contains("Open the vault"));
    assert!(
        page.contains("/console/assets/approvals.js?v="),
        "the polling script is loaded"
    );
    assert!(
        page.contains("data-poll=\"/console/approvals.json?state=pending\""),
        "{page}"
    );
    assert!(
        !console
            .text("/console/approvals?state=approved")
            .contains(&uuid)
    );
    assert!(!console.text("/console/approvals?app=999").contains(&uuid));
    let listed: Value = console
        .get("/console/approvals.json?state=pending")
        .json()
        .unwrap();
    assert_eq!(listed["requests"][0]["uuid"], uuid.as_str());
    assert_eq!(listed["requests"][0]["state"], "pending");
    assert_eq!(
        console.get("/console/approvals.json?state=bogus").status(),
        400
    );
    assert_eq!(console.get("/console/approvals?app=x").status(), 400);
    assert_eq!(
        console.get("/console/approvals/not-a-request").status(),
        404
    );
    // Without a session: the login page, not the data.
    let anonymous = console
        .client
        .get(format!(
            "{}/console/approvals.json",
            console.server.base_url
        ))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}

#[test]
fn hostile_text_in_emails_messages_and_details_renders_escaped() {
    let console = Console::start();
    let email = "<script>alert(1)</script>@evil.example";
    let user = console.user(email, "555-010-0061", "1");
    let message = "<img src=x onerror=alert(1)> & \"quoted\"";
    let uuid = approval_request(&console, user, message, "<b>713</b>");
    for path in [
        format!("/console/users/{user}"),
        format!("/console/users?q={user}"),
        format!("/console/approvals/{uuid}"),
        "/console/approvals".to_owned(),
    ] {
        let page = console.text(&path);
        assert!(
            !page.contains("<script>alert")
                && !page.contains("<img src=x")
                && !page.contains("<b>713"),
            "{path}: {page}"
        );
    }
    let page = console.text(&format!("/console/approvals/{uuid}"));
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;"),
        "{page}"
    );
    assert_eq!(element_text(&page, "shown-message"), message);
    assert!(
        console
            .text(&format!("/console/users/{user}"))
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;@evil.example")
    );
}

#[test]
fn deliveries_and_usage_show_what_was_sent() {
    let console = Console::start();
    let user = console.user("ginny@example.com", "555-010-0071", "1");
    let sms = console.api_get(&format!("/protected/json/sms/{user}?force=true"));
    assert_eq!(sms["success"], true, "{sms}");
    approval_request(&console, user, "Approve payment", "1.00 EUR");
    let page = console.text("/console/deliveries?channel=sms");
    let sent = "<td>sms</td><td>+15550100071</td><td class=\"state\">sent</td>";
    assert!(page.contains(sent), "the SMS and its outcome: {page}");
    let code = console.server.last_message("+15550100071").1;
    assert!(!page.contains(&code), "never the text or its code");
    assert!(
        !console
            .text("/console/deliveries?channel=call")
            .contains("5550100071")
    );
    assert_eq!(
        console.get("/console/deliveries?channel=pigeon").status(),
        400
    );

    // Counts are buffered and written every half second (service::stats): poll, bounded.
    let bars = |page: &str| -> Vec<String> {
        page.split("data-count=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (usage, counts) = loop {
        let usage = console.text("/console/usage");
        let counts = bars(&usage);
        if (counts[2 * 30 - 1] != "0" && counts[4 * 30 - 1] != "0")
            || std::time::Instant::now() > deadline
        {
            break (usage, counts);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        usage.matches("<svg").count(),
        4,
        "verifications, SMS, calls, approvals"
    );
    assert_eq!(counts.len(), 4 * 30, "30 days each");
    // The last bar of each chart is today's.
    assert_eq!(counts[2 * 30 - 1], "1", "today's SMS: {counts:?}");
    assert_eq!(counts[3 * 30 - 1], "0", "no call today");
    assert_eq!(counts[4 * 30 - 1], "1", "today's approval request");
    let other_app = console.text("/console/usage?app=999");
    assert!(!other_app.contains("data-count=\"1\""));
}

#[test]
fn pushes_are_listed_with_their_outcome_and_never_the_token() {
    let console = Console::start();
    let user = console.user("fred@example.com", "555-010-0081", "1");
    let (device_id, _) = register_device(&console, user);
    let uuid = approval_request(&console, user, "Approve payment", "2.00 EUR");
    // No push provider is configured in the tests' server: the attempt fails, and says why.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let page = loop {
        let page = console.text("/console/deliveries");
        if page.contains(&format!("/console/approvals/{uuid}"))
            || std::time::Instant::now() > deadline
        {
            break page;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let pushes =
        &page[page.find("class=\"pushes\"").unwrap()..page.find("<h2>SMS and calls").unwrap()];
    assert!(pushes.contains(&uuid), "{pushes}");
    assert!(
        pushes.contains(&format!(
            "<td>{device_id}</td><td>android</td><td class=\"state\">failed</td>"
        )),
        "{pushes}"
    );
    assert!(
        pushes.contains("no push provider is configured for android devices"),
        "{pushes}"
    );
    assert!(!page.contains("push-token-1"));
    assert!(!console.text("/console/deliveries?app=999").contains(&uuid));
}

#[test]
fn the_evidence_script_passes_its_node_unit_check() {
    // tests/console/evidence_check.js: the protocol's answer vector, valid and tampered.
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/console/evidence_check.js"
    );
    let node = std::env::var("COUNTERSIGN_NODE").unwrap_or_else(|_| "node".to_owned());
    let out = Command::new(&node)
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("Node.js is needed for this test ({node}): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
}

/// A suspended app's key is refused (60061), but its users' devices keep answering the
/// requests already pending (docs/server-api.md, "Suspended applications"): the app reads
/// the answer once resumed.
#[test]
fn devices_still_answer_pending_requests_while_their_app_is_suspended() {
    let console = Console::start();
    let user = console.user("ginny@example.com", "555-010-0851", "44");
    let (device_id, signer) = register_device(&console, user);
    let uuid = approval_request(&console, user, "Pay Hermione?", "12.00 EUR");
    let app = format!("/console/apps/{}", console.server.app_id);
    let csrf = csrf_in(&console.text(&app));
    assert_eq!(
        console
            .post(&format!("{app}/suspend"), &[("csrf", &csrf)])
            .status(),
        303
    );
    let status_path = format!("/onetouch/json/approval_requests/{uuid}");
    let refused = console.api_get(&status_path);
    assert_eq!(refused["error_code"], "60061", "{refused}");

    approve(&console, device_id, &signer, &uuid);

    let csrf = csrf_in(&console.text(&app));
    assert_eq!(
        console
            .post(&format!("{app}/resume"), &[("csrf", &csrf)])
            .status(),
        303
    );
    let status = console.api_get(&status_path);
    assert_eq!(status["approval_request"]["status"], "approved", "{status}");
}
