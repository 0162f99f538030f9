//! Delivery providers configured by their own tables (docs/server-api.md, Delivery
//! providers): the generic webhook push provider against a local relay, SMS provider tables
//! and their flat aliases, and unknown provider names refused at start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::receiver::{Captured, fake};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use sha2::Sha256;

const RELAY_SECRET: &str = "relay-secret-4f1c";

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("countersign.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn server_with_config(dir: &Path, text: &str, env: Vec<(String, String)>) -> common::Server {
    let path = write_config(dir, text);
    let mut env = env;
    env.push(("COUNTERSIGN_CONFIG".into(), path.display().to_string()));
    common::Server::start(&common::Options {
        env,
        ..Default::default()
    })
}

fn api(server: &common::Server, path: &str, form: &[(&str, &str)]) -> Value {
    Client::new()
        .post(format!("{}{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(form)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// Registers a new key as an Android device of `user` with push token `token`.
fn register_android(server: &common::Server, user: i64, token: &str) {
    let registration = common::phone::Registration {
        push_token: Some(token),
        ..Default::default()
    };
    common::phone::register_as(
        &server.base_url,
        &server.api_key,
        server.client(),
        user,
        &registration,
    );
}

/// Creates an approval request for `user`; returns its uuid.
fn approval_request(server: &common::Server, user: i64) -> String {
    let answer = api(
        server,
        &format!("/onetouch/json/users/{user}/approval_requests"),
        &[("message", "Log in")],
    );
    answer["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn wait_for(seen: &std::sync::Mutex<Vec<Captured>>, count: usize) -> Vec<Captured> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    seen.lock().unwrap().clone()
}

fn header<'a>(request: &'a Captured, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn approval_status(server: &common::Server, uuid: &str) -> Value {
    Client::new()
        .get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn the_webhook_push_provider_posts_a_signed_push_to_the_relay() {
    let (port, seen) = fake(200);
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_config(
        dir.path(),
        &format!(
            "[push.webhook]\nurl = \"http://127.0.0.1:{port}/push\"\nsecret = \"{RELAY_SECRET}\"\n"
        ),
        Vec::new(),
    );
    let user = server.new_user("555-010-0401");
    register_android(&server, user, "relay-token-1");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let uuid = approval_request(&server, user);

    let seen = wait_for(&seen, 1);
    assert_eq!(seen.len(), 1, "one push for the one device");
    let push = &seen[0];
    assert_eq!(push.path, "/push");
    assert_eq!(header(push, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&push.body).unwrap();
    assert_eq!(body["os"], "android");
    assert_eq!(body["token"], "relay-token-1");
    assert_eq!(
        body["data"],
        json!({"type": "approval_request", "uuid": uuid})
    );
    let sent_at = body["sent_at"].as_i64().unwrap();
    assert!((before - 5..=before + 60).contains(&sent_at), "{sent_at}");
    // The signature, recomputed here over the exact bytes received.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(RELAY_SECRET.as_bytes()).unwrap();
    mac.update(push.body.as_bytes());
    let expected = format!(
        "sha256={}",
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    );
    assert_eq!(
        header(push, "x-countersign-signature"),
        Some(expected.as_str())
    );

    assert_eq!(
        approval_status(&server, &uuid)["approval_request"]["notified"],
        true
    );
}

#[test]
fn a_relay_answering_gone_makes_the_token_forgotten_and_unsigned_without_a_secret() {
    let (port, seen) = fake(410);
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_config(
        dir.path(),
        &format!(
            "[push.webhook]\nurl = \"http://127.0.0.1:{port}/push\"\nplatforms = [\"Android\"]\n"
        ),
        Vec::new(),
    );
    let user = server.new_user("555-010-0402");
    register_android(&server, user, "stale-token");
    let uuid = approval_request(&server, user);
    let seen = wait_for(&seen, 1);
    assert_eq!(seen.len(), 1);
    assert_eq!(header(&seen[0], "x-countersign-signature"), None);

    let devices = |server: &common::Server| -> Value {
        Client::new()
            .get(format!(
                "{}/protected/json/users/{user}/devices",
                server.base_url
            ))
            .header("X-Authy-API-Key", &server.api_key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while devices(&server)["devices"][0]["push"] != false && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        devices(&server)["devices"][0]["push"],
        false,
        "the token is forgotten"
    );
    assert_eq!(
        approval_status(&server, &uuid)["approval_request"]["notified"],
        false
    );
}

#[test]
fn sms_provider_tables_configure_the_provider_and_flat_variables_override_them() {
    let (port, seen) = fake(200);
    let (other_port, other_seen) = fake(200);
    let table = format!(
        "[sms]\nprovider = \"webhook\"\n[sms.webhook]\nurl = \"http://127.0.0.1:{port}/table\"\n"
    );
    let send = |server: &common::Server, phone: &str| {
        let user = server.new_user(phone);
        let answer = Client::new()
            .get(format!(
                "{}/protected/json/sms/{user}?force=true",
                server.base_url
            ))
            .header("X-Authy-API-Key", &server.api_key)
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    };

    let dir = tempfile::tempdir().unwrap();
    let server = server_with_config(dir.path(), &table, Vec::new());
    send(&server, "555-010-0403");
    let seen = wait_for(&seen, 1);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/table");
    let message: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(message["to"], "+445550100403");

    // COUNTERSIGN_WEBHOOK_URL, the flat key's variable, wins over the file's table.
    let dir = tempfile::tempdir().unwrap();
    let variable = format!("http://127.0.0.1:{other_port}/variable");
    let server = server_with_config(
        dir.path(),
        &table,
        vec![("COUNTERSIGN_WEBHOOK_URL".into(), variable)],
    );
    send(&server, "555-010-0404");
    let other_seen = wait_for(&other_seen, 1);
    assert_eq!(other_seen.len(), 1);
    assert_eq!(other_seen[0].path, "/variable");
}

#[test]
fn flat_keys_in_the_file_still_configure_the_sms_provider() {
    let (port, seen) = fake(200);
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_config(
        dir.path(),
        &format!("sender = \"webhook\"\nwebhook_url = \"http://127.0.0.1:{port}/flat\"\n"),
        Vec::new(),
    );
    let user = server.new_user("555-010-0405");
    let answer = Client::new()
        .get(format!(
            "{}/protected/json/call/{user}?force=true",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let seen = wait_for(&seen, 1);
    assert_eq!(seen[0].path, "/flat");
    let message: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(message["channel"], "call");
}

/// Runs `countersign-server outbox` (it builds every provider, then exits) with `config`.
fn start_with(config: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), config);
    Command::new(common::BIN)
        .arg("--config")
        .arg(&path)
        .arg("outbox")
        .env(
            "COUNTERSIGN_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("server.db").display()),
        )
        .env_remove("COUNTERSIGN_SENDER")
        .output()
        .unwrap()
}

#[test]
fn an_unknown_provider_name_is_a_startup_error_listing_the_known_ones() {
    let cases = [
        (
            "[push.pigeon]\nurl = \"http://127.0.0.1:9/\"\n",
            "unknown push provider \"pigeon\" (known: fcm, apns, webhook)",
        ),
        (
            "[sms]\nprovider = \"pigeon\"\n",
            "unknown sms provider \"pigeon\" (known: log, webhook, twilio)",
        ),
        (
            "[sms.twillio]\naccount_sid = \"AC1\"\n",
            "unknown sms provider \"twillio\" (known: log, webhook, twilio)",
        ),
        (
            "sender = \"pigeon\"\n",
            "unknown sms provider \"pigeon\" (known: log, webhook, twilio)",
        ),
    ];
    for (config, message) in cases {
        let out = start_with(config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{config} started");
        assert!(stderr.contains(message), "{config}: {stderr}");
    }
}

#[test]
fn a_provider_table_with_a_missing_or_unknown_key_names_the_table() {
    let cases = [
        (
            "[push.webhook]\nsecret = \"s\"\n",
            "[push.webhook]: missing field `url`",
        ),
        (
            "[push.webhook]\nurl = \"http://127.0.0.1:9/\"\ntimeout_seconds = 0\n",
            "[push.webhook]: timeout_seconds must be 1 to 30",
        ),
        (
            "[sms]\nprovider = \"twilio\"\n[sms.twilio]\nfrom = \"+1\"\n",
            "[sms.twilio]: missing field `account_sid`",
        ),
        (
            "[sms.log]\nverbose = true\n",
            "[sms.log]: unknown field `verbose`",
        ),
    ];
    for (config, message) in cases {
        let out = start_with(config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{config} started");
        assert!(stderr.contains(message), "{config}: {stderr}");
    }
}

#[tokio::test]
async fn a_relay_that_never_answers_is_a_typed_timeout_within_its_bound() {
    use countersign_server::delivery::{Context, PUSH_PROVIDERS, PushError, PushTarget};
    // Never accepted: the connection waits in the backlog and no answer ever comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", dir.path().join("delivery.db").display());
    let context = Context {
        http: reqwest::Client::new(),
        db: countersign_server::store::db::Db::connect(&db_url)
            .await
            .unwrap(),
        master: countersign_server::seal::MasterKey::from_hex(&"11".repeat(32)).unwrap(),
    };
    let webhook = PUSH_PROVIDERS.iter().find(|p| p.name == "webhook").unwrap();
    let table: toml::Table = toml::from_str(&format!(
        "url = \"http://{}/push\"\ntimeout_seconds = 1\nplatforms = [\"iOS\"]",
        silent.local_addr().unwrap()
    ))
    .unwrap();
    let pusher = (webhook.build)(&table, &context).unwrap();
    assert!(pusher.serves("ios") && !pusher.serves("android"));
    let target = PushTarget {
        device_id: 1,
        os: "ios".into(),
        token: "t".into(),
    };
    // The configured 1 s, not the client's own 8 s (nor never): a generous 5 s bound.
    let result = tokio::time::timeout(Duration::from_secs(5), pusher.push(&target, "uuid-1"))
        .await
        .expect("the push gives up within its timeout");
    assert!(matches!(result, Err(PushError::Timeout(1))), "{result:?}");
}
