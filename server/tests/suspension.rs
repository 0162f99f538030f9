//! Suspended applications (Authy's error 60061, authy-java `APPLICATION_SUSPENDED`): once an
//! operator suspends an app (`app update --suspended true`), every API-key route answers its
//! keys 403 with Authy's error shape, JSON and XML, while other apps go on; resuming restores
//! service. Both take effect within the API key cache's few seconds (docs/server-api.md).
//! The official Python library (`authy` 2.2.6) sees the code as Authy's servers sent it.
//! An older database gains the flag, off, on start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use countersign_server::http::routes::{Access, Method, ROUTES};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

/// How long a change may take to reach a running server: the key cache's lifetime (5 s)
/// and some slack for a loaded machine.
const CACHE_WAIT: Duration = Duration::from_secs(12);

/// `app update --id ID --suspended VALUE`; panics when the command fails.
fn set_suspended(server: &common::Server, app_id: i64, value: &str) {
    let out = server
        .command()
        .args(["app", "update", "--id", &app_id.to_string()])
        .args(["--suspended", value])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A second app on the same server; returns its API key.
fn another_app(server: &common::Server) -> String {
    let out = server
        .command()
        .args(["app", "create", "--name", "Ollivanders", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let app: Value = serde_json::from_slice(&out.stdout).unwrap();
    app["api_key"].as_str().unwrap().to_owned()
}

fn details_status(client: &Client, server: &common::Server, key: &str) -> u16 {
    client
        .get(format!("{}/protected/json/app/details", server.base_url))
        .header("X-Authy-API-Key", key)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `app/details` until it answers `status` (a change reaches the key cache).
fn wait_for_status(client: &Client, server: &common::Server, key: &str, status: u16) {
    let deadline = Instant::now() + CACHE_WAIT;
    while details_status(client, server, key) != status {
        assert!(
            Instant::now() < deadline,
            "app/details never answered {status}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The API-key routes checked: one of each kind (app, users, codes, SMS, OneTouch, phone
/// verification), the key in the header or as the `api_key` parameter.
fn requests(
    client: &Client,
    base: &str,
    key: &str,
    user: i64,
    format: &str,
) -> Vec<RequestBuilder> {
    let url = |path: &str| format!("{base}/{}", path.replace("{f}", format));
    let header = |r: RequestBuilder| r.header("X-Authy-API-Key", key);
    vec![
        header(client.get(url("protected/{f}/app/details"))),
        header(client.post(url("protected/{f}/users/new")).form(&[
            ("user[email]", "neville@example.com"),
            ("user[cellphone]", "555-010-0811"),
            ("user[country_code]", "44"),
        ])),
        header(client.get(url(&format!("protected/{{f}}/users/{user}/status")))),
        header(client.get(url(&format!("protected/{{f}}/verify/1234567/{user}")))),
        header(client.get(url(&format!("protected/{{f}}/sms/{user}?force=true")))),
        header(
            client
                .post(url(&format!(
                    "onetouch/{{f}}/users/{user}/approval_requests"
                )))
                .form(&[("message", "Sign in?")]),
        ),
        client
            .post(url("protected/{f}/phones/verification/start"))
            .form(&[
                ("api_key", key),
                ("via", "sms"),
                ("phone_number", "555-010-0812"),
                ("country_code", "44"),
            ]),
    ]
}

/// 403 with code 60061 and the message, in Authy's JSON error shape.
fn assert_suspended_json(response: reqwest::blocking::Response) {
    let url = response.url().to_string();
    assert_eq!(response.status().as_u16(), 403, "{url}");
    let body: Value = response.json().unwrap();
    assert_eq!(body["error_code"], "60061", "{url}: {body}");
    assert_eq!(body["success"], false, "{url}");
    assert_eq!(body["message"], "Application suspended", "{url}");
    assert_eq!(body["errors"]["message"], "Application suspended", "{url}");
}

fn assert_suspended_xml(response: reqwest::blocking::Response) {
    let url = response.url().to_string();
    assert_eq!(response.status().as_u16(), 403, "{url}");
    let text = response.text().unwrap();
    assert!(text.starts_with("<?xml"), "{url}: {text}");
    assert!(
        text.contains("<error-code>60061</error-code>"),
        "{url}: {text}"
    );
    assert!(
        text.contains("<message>Application suspended</message>"),
        "{url}: {text}"
    );
    assert!(
        text.contains("<success type=\"boolean\">false</success>"),
        "{url}: {text}"
    );
}

#[test]
fn a_suspended_app_gets_60061_on_its_routes_others_do_not_and_resuming_restores_it() {
    let server = common::Server::start(&common::Options::default());
    let client = server.client();
    let other_key = another_app(&server);
    let user = server.new_user("555-010-0801");
    // The key is cached by this first call: the suspension must get past the cache.
    assert_eq!(details_status(&client, &server, &server.api_key), 200);

    set_suspended(&server, server.app_id, "true");
    wait_for_status(&client, &server, &server.api_key, 403);
    for request in requests(&client, &server.base_url, &server.api_key, user, "json") {
        assert_suspended_json(request.send().unwrap());
    }
    for request in requests(&client, &server.base_url, &server.api_key, user, "xml") {
        assert_suspended_xml(request.send().unwrap());
    }
    // A wrong key is still a wrong key, not a suspended one.
    assert_eq!(details_status(&client, &server, "not-a-key"), 401);
    // Another app on the same server is unaffected.
    let other = client
        .get(format!("{}/protected/json/app/details", server.base_url))
        .header("X-Authy-API-Key", &other_key)
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 200);

    set_suspended(&server, server.app_id, "false");
    wait_for_status(&client, &server, &server.api_key, 200);
    let status: Value = client
        .get(format!(
            "{}/protected/json/users/{user}/status",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["success"], true, "{status}");
    // Both CLI changes are in the audit trail under their own actions.
    let export = server.command().args(["audit", "export"]).output().unwrap();
    let export = String::from_utf8(export.stdout).unwrap();
    let actions: Vec<String> = export
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|e| e["actor"] == "cli" && e["subject"] == format!("app:{}", server.app_id))
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        actions.ends_with(&["app.suspend".to_owned(), "app.resume".to_owned()]),
        "{actions:?}"
    );
}

/// A concrete path for a route pattern: `{format}` as asked, the user's id, anything else 1.
fn concrete(pattern: &str, format: &str, user: i64) -> String {
    pattern
        .split('/')
        .map(|segment| match segment {
            "{format}" => format.to_owned(),
            "{id}" => user.to_string(),
            s if s.starts_with('{') => "1".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every API-key route of the route table, each method, JSON and XML: 403 / 60061.
#[test]
fn every_api_key_route_refuses_a_suspended_app_in_both_formats() {
    let server = common::Server::start(&common::Options::default());
    let client = server.client();
    let user = server.new_user("555-010-0831");
    set_suspended(&server, server.app_id, "true");
    wait_for_status(&client, &server, &server.api_key, 403);
    let routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.access == Access::ApiKey)
        .collect();
    assert!(routes.len() >= 20, "the table lists the API-key routes");
    for route in routes {
        for format in ["json", "xml"] {
            let url = format!("{}{}", server.base_url, concrete(route.path, format, user));
            for method in route.methods {
                let request = match method {
                    Method::Get => client.get(&url),
                    Method::Post => client.post(&url),
                };
                let response = request
                    .header("X-Authy-API-Key", &server.api_key)
                    .send()
                    .unwrap();
                match format {
                    "json" => assert_suspended_json(response),
                    _ => assert_suspended_xml(response),
                }
            }
        }
    }
}

#[test]
fn the_suspended_flag_takes_only_true_or_false() {
    let server = common::Server::start(&common::Options::default());
    let out = server
        .command()
        .args(["app", "update", "--id", &server.app_id.to_string()])
        .args(["--suspended", "yes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let client = server.client();
    assert_eq!(details_status(&client, &server, &server.api_key), 200);
}

/// The official Python library against a suspended app: each call fails with 403 and the
/// response carries `error_code` 60061 (`authy` 2.2.6 exposes the body as `content`).
const PYTHON_CHECK: &str = r#"
import sys
from authy.api import AuthyApiClient

api = AuthyApiClient(sys.argv[1], sys.argv[2])
user_id = int(sys.argv[3])
calls = {
    "users.create": lambda: api.users.create("luna@example.com", "555-010-0821", 44),
    "users.status": lambda: api.users.status(user_id),
    "tokens.verify": lambda: api.tokens.verify(user_id, "1234567"),
    "users.request_sms": lambda: api.users.request_sms(user_id),
    "one_touch.send_request": lambda: api.one_touch.send_request(user_id, "Sign in?"),
    "phones.verification_start": lambda: api.phones.verification_start("555-010-0822", 44),
}
failed = False
for name, call in calls.items():
    answer = call()
    seen = (answer.ok(), answer.response.status_code, answer["error_code"], answer.errors().get("message"))
    good = seen == (False, 403, "60061", "Application suspended")
    failed = failed or not good
    print(name, "ok" if good else "FAILED %r" % (seen,))
sys.exit(1 if failed else 0)
"#;

fn python() -> String {
    std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn the_official_python_library_sees_error_60061() {
    let server = common::Server::start(&common::Options::default());
    let user = server.new_user("555-010-0820");
    set_suspended(&server, server.app_id, "true");
    let client = server.client();
    wait_for_status(&client, &server, &server.api_key, 403);
    let out = Command::new(python())
        .args(["-c", PYTHON_CHECK, &server.api_key, &server.base_url])
        .arg(user.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); set COUNTERSIGN_PYTHON", python()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with(" ok")).count(),
        6,
        "{stdout}"
    );
}

/// An `apps` table from before suspension (issue 15's columns) gains `suspended`, off, on
/// start (`db::ADDED_COLUMNS`): its apps keep working, and can then be suspended.
#[tokio::test]
async fn apps_from_before_suspension_gain_the_flag_off() {
    use countersign_server::store::{apps, db::Db};
    let dir = tempfile::tempdir().unwrap();
    let mut url = common::fresh_database_url(dir.path());
    if url.starts_with("sqlite:") {
        url.push_str("?mode=rwc");
    }
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        for statement in [
            "CREATE TABLE schema_version (version BIGINT NOT NULL)",
            "INSERT INTO schema_version (version) VALUES (2)",
            "CREATE TABLE apps (id BIGINT PRIMARY KEY, name TEXT NOT NULL, api_key_hash TEXT NOT NULL UNIQUE, api_key_sealed TEXT NOT NULL, token_length BIGINT NOT NULL, callback_url TEXT, callback_method TEXT NOT NULL, created_at BIGINT NOT NULL, previous_key_hash TEXT, previous_key_until BIGINT NOT NULL DEFAULT 0, transactional_totp BIGINT NOT NULL DEFAULT 1, number_matching BIGINT NOT NULL DEFAULT 0, approval_default_seconds BIGINT NOT NULL DEFAULT 0, approval_max_seconds BIGINT NOT NULL DEFAULT 0)",
            "INSERT INTO apps (id, name, api_key_hash, api_key_sealed, token_length, callback_method, created_at) VALUES (3, 'Gringotts', 'hash-3', 'sealed', 7, 'POST', 0)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let db = Db::connect(&url).await.unwrap();
    let app = apps::by_key_hash(&db, "hash-3", 0).await.unwrap().unwrap();
    assert_eq!(
        (app.id, app.name.as_str(), app.suspended),
        (3, "Gringotts", false)
    );
    let suspend = apps::AppUpdate {
        suspended: Some(true),
        ..apps::AppUpdate::default()
    };
    assert!(apps::update(&db, 3, suspend).await.unwrap());
    assert!(apps::by_id(&db, 3).await.unwrap().unwrap().suspended);
}
