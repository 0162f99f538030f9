//! Statistics counts under several instances, failures and shutdown: no count lost, no
//! deadlock between instances flushing the same rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::sync::Arc;

use countersign_server::config::FileConfig;
use countersign_server::run;
use countersign_server::service::stats::{flush_events, record_event};
use countersign_server::state::AppState;
use sqlx::Row;

const KINDS: [&str; 5] = [
    "sms",
    "call",
    "verification",
    "user_created",
    "approval_request",
];

/// An instance's state (no HTTP listener) on `url`.
async fn instance(url: &str) -> AppState {
    let config = FileConfig {
        database_url: Some(url.to_owned()),
        master_key: Some("42".repeat(32)),
        ..Default::default()
    };
    Arc::new(config.build().await.unwrap())
}

async fn stored(state: &AppState, app_id: i64, kind: &str) -> i64 {
    sqlx::query("SELECT count FROM counters WHERE app_id = $1 AND kind = $2")
        .bind(app_id)
        .bind(kind)
        .fetch_optional(&state.db.pool)
        .await
        .unwrap()
        .map_or(0, |row| row.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flushes_from_several_instances_at_once_lose_no_count_and_never_deadlock() {
    const APPS: i64 = 12;
    const ROUNDS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path());
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(instance(&url).await);
    }
    let workers: Vec<_> = instances
        .iter()
        .cloned()
        .map(|state| {
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for _ in 0..ROUNDS {
                    for app_id in 1..=APPS {
                        for kind in KINDS {
                            record_event(&state, app_id, kind).await;
                        }
                    }
                    if let Err(e) = flush_events(&state).await {
                        failures.push(e.to_string());
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.unwrap());
    }
    for state in &instances {
        flush_events(state).await.unwrap();
    }
    assert!(failures.is_empty(), "flushes failed: {failures:?}");
    for app_id in 1..=APPS {
        for kind in KINDS {
            assert_eq!(
                stored(&instances[0], app_id, kind).await,
                (3 * ROUNDS) as i64,
                "app {app_id}, {kind}"
            );
        }
    }
}

#[tokio::test]
async fn a_failed_flush_keeps_its_counts_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let state = instance(&common::fresh_database_url(dir.path())).await;
    for _ in 0..3 {
        record_event(&state, 7, "sms").await;
    }
    record_event(&state, 8, "call").await;
    sqlx::query("ALTER TABLE counters RENAME TO counters_away")
        .execute(&state.db.writer)
        .await
        .unwrap();
    assert!(flush_events(&state).await.is_err());
    sqlx::query("ALTER TABLE counters_away RENAME TO counters")
        .execute(&state.db.writer)
        .await
        .unwrap();
    record_event(&state, 7, "sms").await;
    flush_events(&state).await.unwrap();
    assert_eq!(stored(&state, 7, "sms").await, 4);
    assert_eq!(stored(&state, 8, "call").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_writes_the_counts_of_requests_still_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let state = instance(&common::fresh_database_url(dir.path())).await;
    let (app_id, api_key) = run::create_app(&state, "Stats", 7, None, "POST")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = run::start(state.clone(), listener).unwrap();
    let base_url = format!("http://{}", running.address);
    let client = reqwest::Client::new();
    let (answered, mut first) = tokio::sync::mpsc::unbounded_channel();
    let requests: Vec<_> = (0..200)
        .map(|n| {
            let (client, base_url, api_key, answered) = (
                client.clone(),
                base_url.clone(),
                api_key.clone(),
                answered.clone(),
            );
            tokio::spawn(async move {
                let response = client
                    .post(format!("{base_url}/protected/json/users/new"))
                    .header("X-Authy-API-Key", api_key)
                    .form(&[
                        ("user[email]", "ginny@example.com".to_owned()),
                        ("user[cellphone]", format!("555-020-{n:04}")),
                        ("user[country_code]", "44".to_owned()),
                    ])
                    .send()
                    .await;
                let created = response.is_ok_and(|r| r.status().is_success());
                let _ = answered.send(());
                created
            })
        })
        .collect();
    // Stop while most requests are still being answered.
    first.recv().await.unwrap();
    tokio::time::timeout(run::SHUTDOWN_BOUND, running.stop())
        .await
        .unwrap()
        .unwrap();
    let mut created = 0;
    for request in requests {
        created += i64::from(request.await.unwrap());
    }
    assert!(created > 0);
    assert_eq!(stored(&state, app_id, "user_created").await, created);
}

/// `date -u` in the C locale: (English month name, year) now, as Authy's items name them.
fn this_month() -> (String, i64) {
    let out = std::process::Command::new("date")
        .args(["-u", "+%B %Y"])
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (month, year) = text.trim().split_once(' ').unwrap();
    (month.to_owned(), year.parse().unwrap())
}

fn get_json(server: &common::Server, path: &str) -> serde_json::Value {
    let answer = server
        .client()
        .get(format!("{}/protected/json/{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.json().unwrap()
}

/// The month's item of an `app/stats` answer, after checking the answer's shape (the keys
/// and types authy-client asserts: exactly seven keys per item).
fn current_item(stats: &serde_json::Value, app_id: i64) -> serde_json::Value {
    assert_eq!(stats["message"], "Monthly statistics.", "{stats}");
    assert_eq!(stats["app_id"], app_id, "{stats}");
    assert_eq!(stats["success"], true);
    let items = stats["stats"].as_array().unwrap();
    assert_eq!(stats["count"], items.len(), "{stats}");
    for item in items {
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let seven = [
            "api_calls_count",
            "auths_count",
            "calls_count",
            "month",
            "sms_count",
            "users_count",
            "year",
        ];
        assert_eq!(keys, seven, "{item}");
    }
    let (month, year) = this_month();
    let last = items.last().unwrap().clone();
    assert_eq!(last["month"], month.as_str(), "{stats}");
    assert_eq!(last["year"], year, "{stats}");
    last
}

#[test]
fn app_stats_counts_this_months_real_traffic() {
    let mut server = common::Server::start(&Default::default());
    let first = server.new_user("7700900501");
    let second = server.new_user("7700900502");
    let client = server.client();
    let send = |path: String| {
        let answer = client
            .post(format!("{}/protected/json/{path}", server.base_url))
            .header("X-Authy-API-Key", &server.api_key)
            .form(&[("force", "true")])
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}: {}", answer.text().unwrap());
    };
    send(format!("sms/{first}"));
    send(format!("call/{second}"));
    let (_, code) = server.last_message("+447700900501");
    let verified = get_json(&server, &format!("verify/{code}/{first}?force=true"));
    assert_eq!(verified["token"], "is valid", "{verified}");
    // Six authenticated calls, this one included.
    let stats = get_json(&server, "app/stats");
    assert_eq!(stats["total_users"], 2, "{stats}");
    let item = current_item(&stats, server.app_id);
    assert_eq!(item["users_count"], 2, "{stats}");
    assert_eq!(item["sms_count"], 1, "{stats}");
    assert_eq!(item["calls_count"], 1, "{stats}");
    assert_eq!(item["auths_count"], 1, "{stats}");
    assert_eq!(item["api_calls_count"], 6, "{stats}");
    // The counts are stored: a restarted server answers the same, plus its own call.
    server.restart();
    let stats = get_json(&server, "app/stats");
    let item = current_item(&stats, server.app_id);
    assert_eq!(item["users_count"], 2, "{stats}");
    assert_eq!(item["api_calls_count"], 7, "{stats}");
}
