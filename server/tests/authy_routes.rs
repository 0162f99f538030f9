//! The route variants the official Authy libraries call (docs/server-api.md, "Routes the
//! official libraries call"), each with the answer and error codes those libraries expect:
//! the paths and messages are taken from authy-node, authy-client, authy-java and authy-python.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

struct Api<'a> {
    server: &'a common::Server,
    http: Client,
}

impl Api<'_> {
    fn new(server: &common::Server) -> Api<'_> {
        Api {
            server,
            http: Client::new(),
        }
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http
            .post(format!("{}{path}", self.server.base_url))
            .header("X-Authy-API-Key", &self.server.api_key)
    }
}

/// (HTTP status, JSON body) of a request.
fn answer(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

/// Asserts an Authy error answer: status, `error_code` (a string, as authy-java reads it) and
/// `success: false`.
fn assert_error(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error_code"], json!(code), "{}", got.1);
    assert_eq!(got.1["success"], json!(false), "{}", got.1);
}

#[test]
fn a_user_is_deleted_on_every_path_the_libraries_use() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    // authy-python; authy-node, authy-java, authy-php; authy-client.
    let paths = [
        "/protected/json/users/{id}/delete",
        "/protected/json/users/delete/{id}",
        "/protected/json/users/{id}/remove",
    ];
    for (i, pattern) in paths.iter().enumerate() {
        let user = server.new_user(&format!("555-010-07{i:02}"));
        let path = pattern.replace("{id}", &user.to_string());
        let (status, body) = answer(api.post(&path));
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["success"], json!(true));
        assert_eq!(body["message"], "User was added to remove.");
        // Deleted: gone from status, and a second deletion finds no user.
        let status_path = format!("/protected/json/users/{user}/status");
        assert_error(answer(api.get(&status_path)), 404, "60026");
        assert_error(answer(api.post(&path)), 404, "60026");
        // authy-client sends `user_ip` in a JSON body; the answer is the same.
        let other = server.new_user(&format!("555-010-08{i:02}"));
        let json_path = pattern.replace("{id}", &other.to_string());
        let (status, _) = answer(api.post(&json_path).json(&json!({"user_ip": "10.0.0.1"})));
        assert_eq!(status, 200, "{json_path}");
    }
    // The deletion routes are POST only, as in every library.
    let user = server.new_user("555-010-0799");
    let path = format!("/protected/json/users/delete/{user}");
    assert_eq!(api.get(&path).send().unwrap().status().as_u16(), 405);
    assert_error(
        answer(api.post("/protected/json/users/delete/not-a-number")),
        404,
        "60026",
    );
}

#[test]
fn register_activity_accepts_the_four_types_and_refuses_anything_else() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let user = server.new_user("555-010-0710");
    let path = format!("/protected/json/users/{user}/register_activity");
    // authy-client's registerActivity: a JSON body with type, data and user_ip.
    for kind in ["banned", "unbanned", "cookie_login", "password_reset"] {
        let body = json!({"type": kind, "data": {"reason": "test", "by": "admin"}, "user_ip": "192.0.2.7"});
        let (status, got) = answer(api.post(&path).json(&body));
        assert_eq!(status, 200, "{kind}: {got}");
        assert_eq!(got["message"], "Activity was created.");
        assert_eq!(got["success"], json!(true));
    }
    // Form-encoded, as other clients send it, without data.
    let (status, _) = answer(api.post(&path).form(&[("type", "banned")]));
    assert_eq!(status, 200);

    assert_error(
        answer(api.post(&path).form(&[("type", "hacked")])),
        400,
        "60029",
    );
    assert_error(
        answer(api.post(&path).form(&[("data[a]", "b")])),
        400,
        "60029",
    );
    assert_error(
        answer(
            api.post(&path)
                .form(&[("type", "banned"), ("data", "flat")]),
        ),
        400,
        "60029",
    );
    let many: Vec<(String, String)> = (0..40)
        .map(|i| (format!("data[k{i}]"), "v".to_owned()))
        .chain([("type".to_owned(), "banned".to_owned())])
        .collect();
    assert_error(answer(api.post(&path).form(&many)), 400, "60029");
    let long_key = format!("data[{}]", "k".repeat(65));
    assert_error(
        answer(
            api.post(&path)
                .form(&[("type", "banned"), (long_key.as_str(), "v")]),
        ),
        400,
        "60029",
    );
    assert_error(
        answer(
            api.post(&path)
                .form(&[("type", "banned"), ("user_ip", "not-an-ip")]),
        ),
        400,
        "60004",
    );
    assert_error(
        answer(
            api.post("/protected/json/users/999999/register_activity")
                .form(&[("type", "banned")]),
        ),
        404,
        "60026",
    );
    // XML, as the format segment allows.
    let xml = api
        .post(&format!("/protected/xml/users/{user}/register_activity"))
        .form(&[("type", "cookie_login")])
        .send()
        .unwrap();
    assert_eq!(xml.status().as_u16(), 200);
    assert!(xml.text().unwrap().contains("Activity was created."));
}

#[test]
fn activities_are_stored_and_only_the_newest_are_kept_per_user() {
    use countersign_server::store::activities;
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let (user, other) = (
        server.new_user("555-010-0711"),
        server.new_user("555-010-0712"),
    );
    let report = |id: i64, kind: &str| {
        let path = format!("/protected/json/users/{id}/register_activity");
        assert_eq!(answer(api.post(&path).form(&[("type", kind)])).0, 200);
    };
    let extra = 5;
    for i in 0..activities::KEPT_PER_USER + extra {
        report(
            user,
            if i % 2 == 0 {
                "cookie_login"
            } else {
                "password_reset"
            },
        );
    }
    report(other, "banned");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (kept, others) = runtime.block_on(async {
        let db = countersign_server::store::db::Db::connect(&server.database_url)
            .await
            .unwrap();
        (
            activities::count(&db, user).await.unwrap(),
            activities::count(&db, other).await.unwrap(),
        )
    });
    assert_eq!(kept, activities::KEPT_PER_USER);
    assert_eq!(others, 1, "one user's reports never drop another's");
}

#[test]
fn phone_verification_status_follows_a_verification_from_pending_to_verified() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let status_path =
        "/protected/json/phones/verification/status?phone_number=555-010-0720&country_code=1";
    // Nothing started: Authy's "no pending verification" (60023).
    assert_error(answer(api.get(status_path)), 404, "60023");
    assert_error(
        answer(
            api.get("/protected/json/phones/verification/status?phone_number=abc&country_code=1"),
        ),
        400,
        "60033",
    );

    let started = api
        .post("/protected/json/phones/verification/start")
        .form(&[
            ("phone_number", "555-010-0720"),
            ("country_code", "1"),
            ("via", "sms"),
        ])
        .send()
        .unwrap();
    assert_eq!(started.status().as_u16(), 200);
    let (status, pending) = answer(api.get(status_path));
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["message"], "Phone Verification status.");
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["success"], json!(true));
    let left = pending["seconds_to_expire"].as_i64().unwrap();
    assert!(left > 500 && left <= 600, "{left}");

    let code = server.last_message("+15550100720").1;
    let check = format!(
        "/protected/json/phones/verification/check?phone_number=555-010-0720&country_code=1&verification_code={code}"
    );
    assert_eq!(api.get(&check).send().unwrap().status().as_u16(), 200);
    let (_, verified) = answer(api.get(status_path));
    assert_eq!(verified["status"], "verified");
    // authy-node sends its GET parameters as a form body.
    let (status, form) = answer(
        api.get("/protected/json/phones/verification/status")
            .form(&[("phone_number", "555-010-0720"), ("country_code", "1")]),
    );
    assert_eq!((status, &form["status"]), (200, &json!("verified")));
}

/// authy-client's `getApprovalRequest` assertions: strings, integers, booleans, dates.
fn assert_types_authy_client_checks(request: &Value, user: i64) {
    for key in [
        "_app_name",
        "_id",
        "_user_email",
        "app_id",
        "user_id",
        "uuid",
    ] {
        assert!(request[key].is_string(), "{key}: {request}");
    }
    assert!(request["_app_serial_id"].is_i64());
    assert_eq!(request["_authy_id"], json!(user));
    assert_eq!(request["user_id"], json!(user.to_string()));
    assert_eq!(request["_user_email"], "hermione@example.com");
    assert_eq!(request["notified"], json!(false));
    assert_eq!(request["processed_at"], Value::Null);
    assert_eq!(request["status"], "pending");
    assert_eq!(request["seconds_to_expire"], json!(300));
    for key in ["created_at", "updated_at"] {
        let date = request[key].as_str().unwrap();
        assert!(date.len() == 20 && date.ends_with('Z'), "{key}: {date}");
    }
}

#[test]
fn an_approval_request_carries_authys_fields_with_the_types_the_libraries_check() {
    let server = common::Server::start(&common::Options::default());
    let api = Api::new(&server);
    let user = server.new_user("555-010-0730");
    let (status, created) = answer(
        api.post(&format!("/onetouch/json/users/{user}/approval_requests"))
            .form(&[
                ("message", "Log in to the bank"),
                ("details[Location]", "California, USA"),
                ("hidden_details[ip]", "192.0.2.1"),
                ("logos[0][res]", "default"),
                ("logos[0][url]", "https://example.com/logo.png"),
                ("seconds_to_expire", "300"),
            ]),
    );
    assert_eq!(status, 200, "{created}");
    let uuid = created["approval_request"]["uuid"].as_str().unwrap();

    let (status, body) = answer(api.get(&format!("/onetouch/json/approval_requests/{uuid}")));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], json!(true));
    let request = &body["approval_request"];
    assert_types_authy_client_checks(request, user);
    // The content as sent, and no device before one answered.
    assert_eq!(request["message"], "Log in to the bank");
    assert_eq!(request["details"], json!({"Location": "California, USA"}));
    assert_eq!(request["hidden_details"], json!({"ip": "192.0.2.1"}));
    assert_eq!(
        request["logos"],
        json!([{"res": "default", "url": "https://example.com/logo.png"}])
    );
    assert_eq!(request["device"], Value::Null);
    // Countersign's own fields only under `countersign`.
    assert!(request["countersign"]["expires_at"].is_string());
    assert!(request.get("expires_at").is_none() && request.get("signed_answer").is_none());

    // Unknown: authy-java's ONETOUCH_APPROVAL_REQUEST_NOT_FOUND.
    assert_error(
        answer(api.get("/onetouch/json/approval_requests/00000000-0000-4000-8000-000000000000")),
        404,
        "60049",
    );
    // Another app's request is unknown too: a second app cannot read it.
    let other = api
        .http
        .get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", "wrong-key")
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 401);
}

/// The callbacks received, waiting until there are `count`.
fn callbacks_received(
    seen: &std::sync::Mutex<Vec<common::receiver::Captured>>,
    count: usize,
) -> Vec<common::receiver::Captured> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = seen.lock().unwrap().clone();
        if got.len() >= count || std::time::Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Runs the Python SDK's validator on each callback; true where it accepts it.
fn python_sdk_accepts(api_key: &str, callbacks: &[Value]) -> Vec<bool> {
    use std::io::Write;
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/validate_callbacks.py"
    );
    let mut child = std::process::Command::new(python)
        .arg(script)
        .arg(api_key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs (scripts/test sets up .venv with the SDK)");
    let mut input = child.stdin.take().unwrap();
    for callback in callbacks {
        writeln!(input, "{callback}").unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line == "true")
        .collect()
}

/// The validator's inputs for received callbacks: headers, method, URL and JSON body.
fn validator_inputs(received: &[common::receiver::Captured], url: &str) -> Vec<Value> {
    let header = |c: &common::receiver::Captured, name: &str| {
        c.headers.iter().find(|(k, _)| k == name).unwrap().1.clone()
    };
    received
        .iter()
        .map(|callback| {
            let body: Value = serde_json::from_str(&callback.body).unwrap();
            json!({
                "signature": header(callback, "x-authy-signature"),
                "nonce": header(callback, "x-authy-signature-nonce"),
                "method": "POST", "url": url, "body": body,
            })
        })
        .collect()
}

/// An answered request's callback: Authy's fields and types, the device's signature.
fn assert_answered_callback(body: &Value, user: i64, device_id: i64, status: &str) {
    assert_eq!(body["status"], status);
    assert_eq!(body["callback_action"], "approval_request_status");
    assert_eq!(body["authy_id"], json!(user));
    // authy-client checks these are strings.
    assert_eq!(body["device_uuid"], json!(device_id.to_string()));
    let signature = body["signature"].as_str().unwrap();
    assert!(!signature.is_empty());
    let jws = body["countersign"]["signed_answer"]["jws"]
        .as_str()
        .unwrap();
    assert!(jws.ends_with(&format!(".{signature}")));
    let transaction = &body["approval_request"]["transaction"];
    assert_eq!(
        transaction["details"],
        json!({"Amount": "713.00 EUR", "Payee": "Hermione Granger"})
    );
    assert_eq!(transaction["hidden_details"], json!({"Payment ID": "P-1"}));
    assert_eq!(transaction["status"], status);
    assert!(body["approval_request"]["expiration_timestamp"].is_i64());
}

/// The status of an answered request shows the answering device with Authy's device fields.
fn assert_answering_device(status: &Value, device_id: i64) {
    let device = &status["approval_request"]["device"];
    assert_eq!(device["id"], json!(device_id));
    assert_eq!(device["os_type"], "android");
    assert!(device["registration_date"].is_i64() && device["last_sign_in"].is_i64());
    let unknown = [
        "city",
        "country",
        "ip",
        "region",
        "registration_ip",
        "last_account_recovery_at",
    ];
    for key in unknown {
        assert!(device.get(key).is_some(), "{key}");
    }
    assert!(status["approval_request"]["processed_at"].is_string());
}

#[test]
fn the_python_sdk_validates_approved_denied_and_expired_callbacks() {
    let server = common::Server::start(&common::Options {
        callback: true,
        ..Default::default()
    });
    let (_, seen) = common::receiver::fake_at(server.callback_port, 200);
    let api = Api::new(&server);
    let user = server.new_user("555-010-0740");
    let phone = common::phone::register(&server, user);
    let create = |seconds: &str| -> String {
        let (_, created) = answer(
            api.post(&format!("/onetouch/json/users/{user}/approval_requests"))
                .form(&[
                    ("message", "Approve payment"),
                    ("details[Amount]", "713.00 EUR"),
                    ("details[Payee]", "Hermione Granger"),
                    ("hidden_details[Payment ID]", "P-1"),
                    ("seconds_to_expire", seconds),
                ]),
        );
        created["approval_request"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (approved, denied, expiring) = (create("120"), create("120"), create("1"));
    phone.decide(&approved, "approve");
    phone.decide(&denied, "deny");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let status_of =
        |uuid: &str| answer(api.get(&format!("/onetouch/json/approval_requests/{uuid}"))).1;
    assert_eq!(
        status_of(&expiring)["approval_request"]["status"],
        "expired"
    );

    let received = callbacks_received(&seen, 3);
    assert_eq!(received.len(), 3);
    let url = format!("http://127.0.0.1:{}/authy/callback", server.callback_port);
    let inputs = validator_inputs(&received, &url);
    // Independent control: the same callbacks with one field altered must fail.
    let mut tampered = inputs.clone();
    for input in &mut tampered {
        input["body"]["status"] = json!("approved-by-someone-else");
    }
    let verdicts = python_sdk_accepts(&server.api_key, &[inputs.clone(), tampered].concat());
    assert_eq!(verdicts, [vec![true; 3], vec![false; 3]].concat());

    let body_of = |uuid: &str| -> Value {
        inputs.iter().find(|i| i["body"]["uuid"] == uuid).unwrap()["body"].clone()
    };
    assert_answered_callback(&body_of(&approved), user, phone.id, "approved");
    assert_answered_callback(&body_of(&denied), user, phone.id, "denied");
    let expired = body_of(&expiring);
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["device_uuid"], "");
    assert_eq!(expired["signature"], "");
    assert!(expired.get("countersign").is_none());
    assert_answering_device(&status_of(&approved), phone.id);
}
