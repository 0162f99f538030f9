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
