//! `/metrics`: known traffic is sent, then the page is parsed by an independent parser (the
//! Python Prometheus client's `text_string_to_metric_families`) and its counters compared
//! with what was sent. Also: who may read the page, and what the logs never hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Options, Server};

/// A sample's name and labels as `name{k=v,…}` (labels sorted), mapped to its value.
type Samples = HashMap<String, f64>;

/// Parses `text` with the Python Prometheus client; fails the test if it does not parse.
fn parse_with_python(text: &str) -> Samples {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the page: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scrape(server: &Server) -> Samples {
    let response = server
        .client()
        .get(format!("{}/metrics", server.base_url))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse_with_python(&response.text().unwrap())
}

fn value(samples: &Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

fn verify(server: &Server, token: &str, user: i64) -> u16 {
    server
        .client()
        .get(format!(
            "{}/protected/json/verify/{token}/{user}?force=true",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn send_sms(server: &Server, user: i64) {
    let status = server
        .client()
        .get(format!(
            "{}/protected/json/sms/{user}?force=true",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

/// Sends SMS codes and verifies them, wrong codes up to and past a lock-out,
/// and an approval request that expires and is called back; the page counts exactly that.
#[test]
fn counters_match_the_traffic_sent() {
    let server = Server::start(&Options {
        callback: true,
        env: vec![("COUNTERSIGN_MAX_FAILURES".into(), "3".into())],
        ..Default::default()
    });
    let (_, callbacks) = common::receiver::fake_at(server.callback_port, 200);
    let before = scrape(&server);

    // N = 2 good codes, each sent by SMS.
    let (alice, bob) = (server.new_user("7700900001"), server.new_user("7700900002"));
    let mut codes = Vec::new();
    for user in [alice, bob] {
        send_sms(&server, user);
        let phone = if user == alice {
            "+447700900001"
        } else {
            "+447700900002"
        };
        codes.push((user, server.last_message(phone).1));
    }
    for (user, code) in &codes {
        assert_eq!(verify(&server, code, *user), 200);
    }

    // M = 3 wrong codes, the third locking the user out (K = 1); two more find it locked.
    let carol = server.new_user("7700900003");
    let statuses: Vec<u16> = (0..5).map(|_| verify(&server, "0000000", carol)).collect();
    assert_eq!(statuses, [401, 401, 401, 429, 429]);

    // One approval request that expires: one callback delivered.
    let created = server
        .client()
        .post(format!(
            "{}/onetouch/json/users/{alice}/approval_requests",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[("message", "Log in"), ("seconds_to_expire", "1")])
        .send()
        .unwrap();
    assert_eq!(created.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while callbacks.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        callbacks.lock().unwrap().len(),
        1,
        "the expiry was called back"
    );
    // The attempt's outcome is counted after the receiver answered.
    std::thread::sleep(Duration::from_millis(500));

    let after = scrape(&server);
    let delta = |key: &str| value(&after, key) - value(&before, key);
    let verifications = |outcome: &str| {
        delta(&format!(
            "countersign_verifications_total{{outcome={outcome}}}"
        ))
    };
    assert_eq!(verifications("ok"), 2.0);
    assert_eq!(verifications("wrong"), 3.0);
    assert_eq!(verifications("locked"), 2.0);
    assert_eq!(delta("countersign_lockouts_total{}"), 1.0);
    assert_eq!(
        delta("countersign_code_deliveries_total{channel=sms,provider=log,result=sent}"),
        2.0
    );
    assert_eq!(
        delta("countersign_callback_attempts_total{result=delivered}"),
        1.0
    );
    assert_eq!(
        delta("countersign_approval_requests_finished_total{state=expired}"),
        1.0
    );
    assert_eq!(value(&after, "countersign_callback_queue_depth{}"), 0.0);
    // Requests by route pattern, never by path: 7 verify calls (2 + 5), all on one route.
    let route = "/protected/{format}/verify/{token}/{id}";
    let by_status = |status: u16| {
        delta(&format!(
            "countersign_http_requests_total{{method=GET,route={route},status={status}}}"
        ))
    };
    assert_eq!(by_status(200), 2.0);
    assert_eq!(by_status(401), 3.0);
    assert_eq!(by_status(429), 2.0);
    assert_eq!(
        delta(&format!(
            "countersign_http_request_duration_seconds_count{{route={route}}}"
        )),
        7.0
    );
    assert!(
        after
            .keys()
            .all(|k| !k.contains(&codes[0].1) && !k.contains("0000000")),
        "no code appears in a label"
    );
}

/// An unknown path is counted as unmatched, not by its (attacker-chosen) path.
#[test]
fn unmatched_paths_are_not_labels() {
    let server = Server::start(&Options::default());
    let status = server
        .client()
        .get(format!("{}/secret-path-123456", server.base_url))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 404);
    let samples = scrape(&server);
    assert!(samples.keys().all(|k| !k.contains("secret-path")));
    assert_eq!(
        value(
            &samples,
            "countersign_http_requests_total{method=GET,route=(unmatched),status=404}"
        ),
        1.0
    );
}

/// Sends requests that carry every kind of secret the server sees (API key, codes, phone
/// numbers, a device signature) and returns them, for the logs to be searched.
fn traffic_with_secrets(server: &Server) -> Vec<String> {
    let phone = "7700900123";
    let user = server.new_user(phone);
    send_sms(server, user);
    let (_, code) = server.last_message("+447700900123");
    assert_eq!(verify(server, &code, user), 200);
    assert_eq!(verify(server, "8642097", user), 401);
    let signature = "c2lnbmF0dXJlLW9mLWEtZGV2aWNlLXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2Vk";
    let status = server
        .client()
        .get(format!("{}/device/v1/approval_requests", server.base_url))
        .header("X-Countersign-Device", "1")
        .header("X-Countersign-Timestamp", "1700000000")
        .header("X-Countersign-Nonce", "bm9uY2Utbm9uY2Utbm9uY2U")
        .header("X-Countersign-Signature", signature)
        .send()
        .unwrap()
        .status();
    assert!(status.is_client_error());
    vec![
        server.api_key.clone(),
        code,
        "8642097".into(),
        phone.into(),
        signature.into(),
    ]
}

fn assert_no_secret(log: &str, secrets: &[String]) {
    assert!(!log.is_empty(), "the server logged nothing");
    for secret in secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log holds {secret:?}:\n{log}"
        );
    }
}

#[test]
fn text_logs_hold_no_secret() {
    let server = Server::start(&Options::default());
    let secrets = traffic_with_secrets(&server);
    assert_no_secret(&server.log(), &secrets);
}

#[test]
fn json_logs_are_one_object_a_line_and_hold_no_secret() {
    let server = Server::start(&Options {
        env: vec![("COUNTERSIGN_LOG_FORMAT".into(), "json".into())],
        ..Default::default()
    });
    let secrets = traffic_with_secrets(&server);
    let log = server.log();
    assert_no_secret(&log, &secrets);
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            object["level"].is_string() && object["timestamp"].is_string(),
            "{line}"
        );
    }
}

/// Who may read `/metrics`: a scraper on this host, or whoever has the bearer token. A
/// request a proxy forwarded is never "loopback", even from a proxy on this host.
#[test]
fn metrics_answer_a_local_scraper_or_the_token_and_no_forwarded_request() {
    let server = Server::start(&Options {
        env: vec![("COUNTERSIGN_METRICS_TOKEN".into(), "scrape-me-7f3a".into())],
        ..Default::default()
    });
    let status = |headers: &[(&str, &str)]| {
        let mut request = server.client().get(format!("{}/metrics", server.base_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().unwrap().status().as_u16()
    };
    assert_eq!(status(&[]), 200, "a scraper on this host");
    for forwarded in [
        ("X-Forwarded-For", "203.0.113.9"),
        ("Forwarded", "for=203.0.113.9"),
        ("X-Real-IP", "203.0.113.9"),
    ] {
        assert_eq!(status(&[forwarded]), 401, "{forwarded:?}");
        assert_eq!(
            status(&[forwarded, ("Authorization", "Bearer scrape-me-7f3a")]),
            200,
            "{forwarded:?} with the token"
        );
        assert_eq!(
            status(&[forwarded, ("Authorization", "Bearer scrape-me-7f3b")]),
            401,
            "{forwarded:?} with a wrong token"
        );
    }
}
