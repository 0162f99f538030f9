//! The API over real HTTP on loopback: documented errors for bad input on every endpoint,
//! brute-force lock-out that survives a restart, custom actions, transactional verification,
//! formats and body encodings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use countersign_otp::{otpauth, transactional, txotp};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

struct Api<'a> {
    server: &'a common::Server,
    http: Client,
}

impl<'a> Api<'a> {
    fn new(server: &'a common::Server) -> Self {
        Api {
            server,
            http: Client::new(),
        }
    }

    fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
            .send()
            .unwrap()
    }

    fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
            .form(form)
            .send()
            .unwrap()
    }

    fn post_json(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
            .json(body)
            .send()
            .unwrap()
    }

    fn new_user(&self, phone: &str) -> i64 {
        let r = self.post_form(
            "/protected/json/users/new",
            &[
                ("user[email]", "u@example.com"),
                ("user[cellphone]", phone),
                ("user[country_code]", "1"),
            ],
        );
        let body: Value = r.json().unwrap();
        body["user"]["id"].as_i64().unwrap()
    }

    fn outbox_code(&self, recipient: &str) -> String {
        self.server.last_message(recipient).1
    }
}

fn expect(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "expected {status}/{code}"
    );
    let body: Value = response.json().unwrap();
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

#[test]
fn bad_input_on_every_endpoint_gets_the_documented_error() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let user = api.new_user("555-010-0001").to_string();

    // Wrong or missing key: 401 60001 on every route, in either format.
    for path in [
        "/protected/json/app/details".to_string(),
        format!("/protected/json/users/{user}/status"),
        format!("/protected/json/verify/1234567/{user}"),
        "/onetouch/json/approval_requests/x".to_string(),
    ] {
        let r = api
            .http
            .get(format!("{}{path}", server.base_url))
            .header("X-Authy-API-Key", "wrong")
            .send()
            .unwrap();
        expect(r, 401, "60001");
        let r = api
            .http
            .get(format!("{}{path}", server.base_url))
            .send()
            .unwrap();
        expect(r, 401, "60001");
    }
    let xml = api
        .http
        .get(format!("{}/protected/xml/app/details", server.base_url))
        .header("X-Authy-API-Key", "wrong")
        .send()
        .unwrap();
    assert_eq!(xml.status().as_u16(), 401);
    assert!(
        xml.text()
            .unwrap()
            .contains("<error-code>60001</error-code>")
    );

    // Unknown format and unknown routes: 404, never a 500.
    expect(api.get("/protected/yaml/app/details"), 404, "60002");
    expect(api.get("/protected/json/nothing/here"), 404, "60002");
    expect(
        api.http
            .delete(format!("{}/protected/json/app/details", server.base_url))
            .send()
            .unwrap(),
        405,
        "60002",
    );

    // Users.
    expect(
        api.post_form(
            "/protected/json/users/new",
            &[
                ("user[email]", "nope"),
                ("user[cellphone]", "1"),
                ("user[country_code]", "x"),
            ],
        ),
        400,
        "60027",
    );
    expect(
        api.post_form("/protected/json/users/new", &[]),
        400,
        "60027",
    );
    expect(api.get("/protected/json/users/999999/status"), 404, "60026");
    expect(api.get("/protected/json/users/abc/status"), 404, "60026");
    expect(
        api.post_form("/protected/json/users/999999/delete", &[]),
        404,
        "60026",
    );
    expect(
        api.get("/protected/json/registrations/status"),
        400,
        "60004",
    );
    expect(
        api.get("/protected/json/registrations/status?custom_user_id=unknown"),
        404,
        "60026",
    );
    let oversized = "x".repeat(5000);
    expect(
        api.post_form(
            "/protected/json/users/new",
            &[("user[email]", oversized.as_str())],
        ),
        400,
        "60004",
    );
    let huge = Client::new()
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .body(vec![b'a'; 100_000])
        .send()
        .unwrap();
    expect(huge, 413, "60002");
    let broken_json = api
        .http
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .header("Content-Type", "application/json")
        .body("{\"user\":")
        .send()
        .unwrap();
    expect(broken_json, 400, "60002");

    // Tokens.
    expect(api.get("/protected/json/sms/999999"), 404, "60026");
    expect(
        api.get(&format!("/protected/json/call/{user}?action=login")),
        400,
        "60004",
    );
    expect(
        api.get(&format!("/protected/json/verify/12ab567/{user}?force=true")),
        401,
        "60020",
    );
    expect(
        api.get(&format!("/protected/json/verify/123/{user}?force=true")),
        401,
        "60020",
    );
    expect(
        api.get("/protected/json/verify/1234567/999999?force=true"),
        404,
        "60026",
    );
    let body = expect(api.get(&format!("/protected/json/verify/1234567/{user}?force=true&message=m&details[Name]=&details[Surname]=Doe")), 401, "60004");
    assert_eq!(
        body["message"],
        "The param details can not have empty values."
    );
    let body = expect(api.get(&format!("/protected/json/verify/1234567/{user}?force=true&message=m&hidden_details[ID]=&hidden_details[Account]=690239")), 401, "60004");
    assert_eq!(
        body["message"],
        "The param hidden details can not have empty values."
    );
    expect(
        api.post_form(
            &format!("/protected/json/users/{user}/secret"),
            &[("qr_size", "999")],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            &format!("/protected/json/users/{user}/secret"),
            &[("qr_size", "big")],
        ),
        400,
        "60004",
    );

    // Phones.
    expect(
        api.post_form(
            "/protected/json/phones/verification/start",
            &[("phone_number", "abc"), ("country_code", "1")],
        ),
        400,
        "60033",
    );
    expect(
        api.post_form(
            "/protected/json/phones/verification/start",
            &[
                ("phone_number", "5550100002"),
                ("country_code", "1"),
                ("via", "pigeon"),
            ],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            "/protected/json/phones/verification/start",
            &[
                ("phone_number", "5550100002"),
                ("country_code", "1"),
                ("code_length", "2"),
            ],
        ),
        400,
        "60004",
    );
    expect(api.get("/protected/json/phones/verification/check?phone_number=5550100009&country_code=1&verification_code=1234"), 404, "60023");
    expect(
        api.get("/protected/json/phones/info?phone_number=1&country_code=1"),
        400,
        "60033",
    );

    // OneTouch.
    expect(
        api.post_form(
            &format!("/onetouch/json/users/{user}/approval_requests"),
            &[],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            &format!("/onetouch/json/users/{user}/approval_requests"),
            &[("message", "m"), ("seconds_to_expire", "-5")],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            &format!("/onetouch/json/users/{user}/approval_requests"),
            &[("message", "m"), ("details[A]", "")],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            &format!("/onetouch/json/users/{user}/approval_requests"),
            &[("message", "m"), ("logos[0][evil]", "x")],
        ),
        400,
        "60004",
    );
    expect(
        api.post_form(
            "/onetouch/json/users/999999/approval_requests",
            &[("message", "m")],
        ),
        404,
        "60026",
    );
    expect(
        api.get("/onetouch/json/approval_requests/not-a-uuid"),
        404,
        "60049",
    );
}

#[test]
fn lockout_is_per_user_and_survives_a_restart() {
    let mut server = common::Server::start(&common::Options {
        env: vec![("COUNTERSIGN_MAX_FAILURES".into(), "3".into())],
        ..Default::default()
    });
    let (victim, bystander) = {
        let api = Api::new(&server);
        (api.new_user("555-010-0011"), api.new_user("555-010-0012"))
    };
    {
        let api = Api::new(&server);
        for _ in 0..3 {
            expect(
                api.get(&format!(
                    "/protected/json/verify/0000000/{victim}?force=true"
                )),
                401,
                "60020",
            );
        }
        expect(
            api.get(&format!(
                "/protected/json/verify/0000000/{victim}?force=true"
            )),
            429,
            "60003",
        );
        // Another user is not affected.
        expect(
            api.get(&format!(
                "/protected/json/verify/0000000/{bystander}?force=true"
            )),
            401,
            "60020",
        );
    }
    server.restart();
    let api = Api::new(&server);
    // Even the right code is refused while locked.
    api.get(&format!("/protected/json/sms/{victim}?force=true"));
    let code = api.outbox_code("+15550100011");
    expect(
        api.get(&format!(
            "/protected/json/verify/{code}/{victim}?force=true"
        )),
        429,
        "60003",
    );
}

#[test]
fn custom_action_codes_are_valid_only_for_their_action() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let user = api.new_user("555-010-0021");
    let r = api.get(&format!(
        "/protected/json/sms/{user}?action=login&action_message=Login%20code"
    ));
    assert_eq!(r.status().as_u16(), 200);
    let code = api.outbox_code("+15550100021");
    expect(
        api.get(&format!(
            "/protected/json/verify/{code}/{user}?force=true&action=transfer"
        )),
        401,
        "60020",
    );
    expect(
        api.get(&format!("/protected/json/verify/{code}/{user}?force=true")),
        401,
        "60020",
    );
    let ok: Value = api
        .get(&format!(
            "/protected/json/verify/{code}/{user}?force=true&action=login"
        ))
        .json()
        .unwrap();
    assert_eq!(ok["token"], "is valid", "{ok}");
    // Nothing secret in the (debug-level) log: not the code, not the API key.
    let log = server.log();
    assert!(
        log.contains("countersign-server listening"),
        "the log is captured"
    );
    assert!(
        !log.contains(&code) && !log.contains(&server.api_key),
        "{log}"
    );
}

#[test]
fn transactional_verification_with_the_docs_algorithm() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let user = api.new_user("555-010-0031");
    // JSON body, as the SDKs send it.
    let qr: Value = api
        .post_json(
            &format!("/protected/json/users/{user}/secret"),
            &json!({"label": "tx"}),
        )
        .json()
        .unwrap();
    let account = otpauth::parse(qr["uri"].as_str().unwrap()).unwrap().account;
    let tx_uri = "txotp://totp?message=Approve+payment&details[Amount]=713.00+EUR&details[Payee]=Hermione+Granger&hidden_details[ID]=P-1";
    let tx = txotp::parse(tx_uri).unwrap().transaction;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = transactional::code(&account, &tx, now).unwrap();
    let query = "message=Approve%20payment&details%5BPayee%5D=Hermione%20Granger&details%5BAmount%5D=713.00%20EUR&hidden_details%5BID%5D=P-1";
    // The amount changed: refused. The same payment (parameters in another order): accepted.
    let altered = query.replace("713.00", "714.00");
    expect(
        api.get(&format!(
            "/protected/json/verify/{code}/{user}?force=true&{altered}"
        )),
        401,
        "60020",
    );
    let ok = api.get(&format!(
        "/protected/json/verify/{code}/{user}?force=true&{query}"
    ));
    let text = ok.text().unwrap();
    assert!(text.contains("\"token\":\"is valid\""), "{text}");
    // A code already accepted cannot be accepted again: Authy's reused-token answer.
    expect(
        api.get(&format!(
            "/protected/json/verify/{code}/{user}?force=true&{query}"
        )),
        401,
        "60019",
    );
}

#[test]
fn xml_format_and_form_or_json_bodies() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let form = api.post_form(
        "/protected/xml/users/new",
        &[
            ("user[email]", "x@example.com"),
            ("user[cellphone]", "555-010-0041"),
            ("user[country_code]", "1"),
        ],
    );
    assert_eq!(form.status().as_u16(), 200);
    let xml = form.text().unwrap();
    assert!(
        xml.starts_with("<?xml")
            && xml.contains("<success type=\"boolean\">true</success>")
            && xml.contains("<id type=\"integer\">"),
        "{xml}"
    );
    let json_body = api.post_json("/protected/json/users/new", &json!({"user": {"email": "x@example.com", "cellphone": "555-010-0041", "country_code": 1}}));
    let body: Value = json_body.json().unwrap();
    assert_eq!(body["message"], "User created successfully.");
    let health: Value = api
        .http
        .get(format!("{}/healthz", server.base_url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let openapi: Value = api
        .http
        .get(format!("{}/openapi.json", server.base_url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(openapi["paths"]["/protected/{format}/verify/{token}/{id}"]["get"].is_object());
}

#[test]
fn concurrent_requests_with_one_code_accept_it_once() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let users: Vec<i64> = (0..4)
        .map(|i| api.new_user(&format!("555-010-005{i}")))
        .collect();
    let mut codes = Vec::new();
    for (i, user) in users.iter().enumerate() {
        api.get(&format!("/protected/json/sms/{user}?force=true"));
        codes.push(api.outbox_code(&format!("+1555010005{i}")));
    }
    // 16 simultaneous verifications of each user's code: exactly one each is accepted.
    let mut attempts = Vec::new();
    for (user, code) in users.iter().zip(&codes) {
        for _ in 0..16 {
            let (base, key, code, user) = (
                server.base_url.clone(),
                server.api_key.clone(),
                code.clone(),
                *user,
            );
            attempts.push((
                user,
                std::thread::spawn(move || {
                    let r = Client::new()
                        .get(format!(
                            "{base}/protected/json/verify/{code}/{user}?force=true"
                        ))
                        .header("X-Authy-API-Key", key)
                        .send()
                        .unwrap();
                    r.text().unwrap().contains("\"token\":\"is valid\"")
                }),
            ));
        }
    }
    let mut successes = vec![0; users.len()];
    for (user, handle) in attempts {
        if handle.join().unwrap() {
            successes[users.iter().position(|u| *u == user).unwrap()] += 1;
        }
    }
    assert_eq!(successes, vec![1, 1, 1, 1]);
}

#[test]
fn app_settings_can_be_changed() {
    let mut server = common::Server::start(&common::Options::default());
    let out = server
        .command()
        .args([
            "app",
            "update",
            "--id",
            &server.app_id.to_string(),
            "--name",
            "Gringotts Bank",
            "--token-length",
            "8",
            "--callback-url",
            "https://bank.example/cb",
            "--callback-method",
            "GET",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = server
        .command()
        .args(["app", "update", "--id", "999", "--name", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    server.restart();
    let api = Api::new(&server);
    let details: Value = api.get("/protected/json/app/details").json().unwrap();
    assert_eq!(details["app"]["name"], "Gringotts Bank");
    assert_eq!(details["app"]["token_length"], 8);
    assert_eq!(
        details["app"]["onetouch_callback_url"],
        "https://bank.example/cb"
    );
    assert_eq!(details["app"]["onetouch_callback_method"], "GET");
    // Codes now have 8 digits.
    let user = api.new_user("555-010-0088");
    api.get(&format!("/protected/json/sms/{user}?force=true"));
    assert_eq!(api.outbox_code("+15550100088").len(), 8);
}
