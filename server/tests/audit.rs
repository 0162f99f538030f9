//! The audit trail (docs/audit.md): what is recorded, and that `audit verify` finds every kind
//! of tampering with the stored chain — and names the first bad entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::sync::Arc;

use countersign_server::config::FileConfig;
use countersign_server::service::audit::{self, AuditEvent, AuditQuery};
use countersign_server::state::AppState;
use serde_json::json;
use sqlx::Row;

/// An instance's state (no HTTP listener) on `url`.
async fn instance(url: &str) -> AppState {
    let config = FileConfig {
        database_url: Some(url.to_owned()),
        master_key: Some("42".repeat(32)),
        ..Default::default()
    };
    Arc::new(config.build().await.unwrap())
}

fn event(n: usize) -> AuditEvent {
    AuditEvent {
        actor: format!("operator:{}", n % 3),
        action: "app.update",
        subject: format!("app:{n}"),
        details: json!({"n": n, "name": "Gringotts"}),
    }
}

/// (seq, prev_hash, hash) of every stored entry, in seq order.
async fn links(state: &AppState) -> Vec<(i64, String, String)> {
    sqlx::query("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_from_two_instances_at_once_form_one_chain_without_gap_or_fork() {
    const EACH: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path());
    let first = instance(&url).await;
    let second = instance(&url).await;
    let workers: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .enumerate()
        .map(|(who, state)| {
            tokio::spawn(async move {
                for n in 0..EACH {
                    audit::record(&state, event(who * EACH + n)).await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let chain = links(&first).await;
    assert_eq!(chain.len(), 2 * EACH);
    let mut previous = "0".repeat(64);
    for (i, (seq, prev_hash, hash)) in chain.iter().enumerate() {
        assert_eq!(*seq, i as i64 + 1, "a gap in the sequence");
        assert_eq!(
            *prev_hash, previous,
            "entry {seq} does not follow its predecessor"
        );
        previous = hash.clone();
    }
    let page = audit::list(
        &second,
        &AuditQuery {
            actor: Some("operator:1".into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.entries.len(), 5);
    assert!(page.entries.windows(2).all(|w| w[0].seq > w[1].seq));
    assert!(page.entries.iter().all(|e| e.actor == "operator:1"));
    assert_eq!(page.next_before, Some(page.entries[4].seq));
}
