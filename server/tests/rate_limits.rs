//! Rate limits per app (API key) and per client address: a flood is answered 429 with
//! Authy's `60003` body and `Retry-After`, while another app, or another address, on the
//! same server goes on unaffected; instances on one database share an app's limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::time::Instant;

use common::burst::{Raw, release_together};
use common::{Options, Server};

/// A server whose `[rate_limits]` table is `limits` (and whose file also holds `extra`),
/// with the folder of that file.
fn limited_server(limits: &str, extra: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("countersign.toml");
    std::fs::write(&path, format!("{extra}\n[rate_limits]\n{limits}\n")).unwrap();
    let server = Server::start(&Options {
        env: vec![("COUNTERSIGN_CONFIG".into(), path.display().to_string())],
        ..Default::default()
    });
    (server, dir)
}

/// Creates another app on the server's database; returns its API key.
fn another_app(server: &Server) -> String {
    let out = server
        .command()
        .args(["app", "create", "--name", "Ollivanders", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    app["api_key"].as_str().unwrap().to_owned()
}

const DETAILS: &str = "/protected/json/app/details";

/// One test at a time: each floods a server, and several floods at once on one PostgreSQL
/// run out of its connections (answered 503), which is not what these tests measure.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[test]
fn a_flooded_app_is_limited_and_another_app_is_not() {
    let _serial = one_at_a_time();
    let (server, _config) = limited_server("per_app_per_second = 2\nper_app_burst = 10", "");
    let other_key = another_app(&server);
    let mut requests = vec![Raw::get(&server.base_url, DETAILS, &server.api_key); 40];
    requests.extend(vec![Raw::get(&server.base_url, DETAILS, &other_key); 8]);
    let started = Instant::now();
    let answers = release_together(&requests);
    let elapsed = started.elapsed().as_secs();
    let (flood, other) = answers.split_at(40);
    let flood: Vec<u16> = flood.iter().map(|a| a.status).collect();
    let other: Vec<u16> = other.iter().map(|a| a.status).collect();
    assert_eq!(other, [200; 8], "the other app is unaffected");
    // The burst, plus what refilled while the flood ran, plus one lease in hand.
    let allowed = 10 + 2 * (elapsed as usize + 1) + 1;
    assert!(count(&flood, 200) <= allowed, "{flood:?}");
    assert_eq!(count(&flood, 200) + count(&flood, 429), 40, "{flood:?}");
    let refused = answers[..40].iter().find(|a| a.status == 429).unwrap();
    assert_eq!(refused.body["error_code"], "60003");
    assert_eq!(refused.body["success"], false);

    // The answer carries Retry-After, as the documented 429 asks clients to wait.
    let response = server
        .client()
        .get(format!("{}{DETAILS}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
}

#[test]
fn a_flooding_address_is_limited_and_another_address_is_not() {
    let _serial = one_at_a_time();
    let (server, _config) = limited_server(
        "per_address_per_second = 2\nper_address_burst = 10",
        "trusted_proxies = [\"127.0.0.1/32\"]",
    );
    let from = |address: &str| {
        let mut raw = Raw::get(&server.base_url, DETAILS, &server.api_key);
        raw.headers
            .push(("X-Forwarded-For".into(), address.to_owned()));
        raw
    };
    let mut requests = vec![from("203.0.113.5"); 40];
    requests.extend(vec![from("203.0.113.6"); 8]);
    let answers = release_together(&requests);
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses[40..], [200; 8], "the other address is unaffected");
    assert!(count(&statuses[..40], 429) >= 20, "{statuses:?}");
    let refused = answers.iter().find(|a| a.status == 429).unwrap();
    assert_eq!(refused.body["error_code"], "60003");
}

#[test]
fn instances_on_one_database_share_an_apps_limit() {
    let _serial = one_at_a_time();
    // One request a second after a burst of 20: two instances together get about 20, where
    // two separate limits would give 15 + 15.
    let (server, _config) = limited_server("per_app_per_second = 1\nper_app_burst = 20", "");
    let second = server.another_instance();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for base in [&server.base_url, &second.base_url] {
        for _ in 0..15 {
            let status = server
                .client()
                .get(format!("{base}{DETAILS}"))
                .header("X-Authy-API-Key", &server.api_key)
                .send()
                .unwrap()
                .status()
                .as_u16();
            statuses.push(status);
        }
    }
    let elapsed = started.elapsed().as_secs() as usize;
    // The burst, the refill over the run, and at most one unspent chunk per instance.
    assert!(
        count(&statuses, 200) <= 20 + elapsed + 1 + 2,
        "{statuses:?}"
    );
    assert!(count(&statuses, 200) >= 20, "{statuses:?}");
    assert_eq!(count(&statuses, 200) + count(&statuses, 429), 30);
    assert_eq!(
        &statuses[..15],
        [200; 15],
        "the first instance spends within the burst"
    );
}
