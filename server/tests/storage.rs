//! The storage layer's own promises (server/src/db.rs), tested on a real database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use countersign_server::store::db::Db;
use sqlx::Row;

fn url(dir: &std::path::Path) -> String {
    match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => base,
        _ => format!("sqlite:{}", dir.join("storage.db").display()),
    }
}

/// Finding 14's mechanism: a commit that fails on a full disk can leave SQLite's connection
/// inside its transaction; the next autocommit write on that connection then "succeeds"
/// without ever being committed. Simulated here by a transaction left open on the writer:
/// the connection must not be handed out again in that state.
#[tokio::test]
async fn a_connection_left_inside_a_transaction_is_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    if !url.starts_with("sqlite:") {
        return; // PostgreSQL aborts such a transaction itself.
    }
    let db = Db::connect(&url).await.unwrap();
    {
        let mut conn = db.writer.acquire().await.unwrap();
        sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
        sqlx::query("UPDATE apps SET name = name")
            .execute(&mut *conn)
            .await
            .unwrap();
    } // released while still inside the transaction
    sqlx::query("INSERT INTO counters (app_id, kind, count) VALUES (77, 'probe', 1)")
        .execute(&db.writer)
        .await
        .unwrap();
    // Another connection sees the write only if it was committed.
    let other = Db::connect(&url).await.unwrap();
    let seen = sqlx::query("SELECT COUNT(*) FROM counters WHERE app_id = 77")
        .fetch_one(&other.pool)
        .await
        .unwrap()
        .get::<i64, _>(0);
    assert_eq!(seen, 1, "an acknowledged write was left uncommitted");
}

/// Every database call has a deadline: with the writer held elsewhere, a write waits at most
/// the acquire time-out and then fails, instead of hanging.
#[tokio::test]
async fn a_busy_writer_makes_a_write_fail_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&url(dir.path())).await.unwrap();
    let held: Vec<_> = {
        let mut held = Vec::new();
        while let Ok(Ok(conn)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), db.writer.acquire()).await
        {
            held.push(conn);
            if held.len() >= 64 {
                break;
            }
        }
        held
    };
    assert!(!held.is_empty());
    let started = std::time::Instant::now();
    let result = db.probe_write(1).await;
    assert!(result.is_err());
    assert!(
        started.elapsed() < countersign_server::store::db::ACQUIRE_TIMEOUT * 2,
        "{:?}",
        started.elapsed()
    );
}

/// Instances started together on a fresh database all start: the schema is created once,
/// under a lock, instead of racing `CREATE TABLE IF NOT EXISTS` (which fails on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_started_together_on_a_fresh_database_all_start() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = common::fresh_database_url(dir.path());
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(4));
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let (url, barrier) = (url.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    Db::connect(&url).await.map(|_| ())
                })
            })
            .collect();
        for start in starts {
            start
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
}

/// Instances that probe a database with no health row yet, at the same moment, all find it
/// writable (an update-then-insert let two of them insert; the loser answered 503 for half
/// a second on a healthy database).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_probing_together_all_find_the_database_writable() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path());
    let instances = [
        Db::connect(&url).await.unwrap(),
        Db::connect(&url).await.unwrap(),
        Db::connect(&url).await.unwrap(),
    ];
    for round in 0..40 {
        sqlx::query("DELETE FROM health")
            .execute(&instances[0].writer)
            .await
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(instances.len()));
        let probes: Vec<_> = instances
            .iter()
            .map(|db| {
                let (db, barrier) = (db.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    db.probe_write(round).await
                })
            })
            .collect();
        for probe in probes {
            probe
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
}

/// A database written by schema 1 gains the columns of issue 10 on start, keeping its rows.
#[tokio::test]
async fn a_schema_1_database_gains_the_new_columns_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    if !url.starts_with("sqlite:") {
        return; // The same statements; one dialect is enough to show the steps run.
    }
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        for statement in [
            "CREATE TABLE schema_version (version BIGINT NOT NULL)",
            "INSERT INTO schema_version (version) VALUES (1)",
            "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, app_id BIGINT NOT NULL, email TEXT NOT NULL, cellphone TEXT NOT NULL, country_code BIGINT NOT NULL, custom_user_id TEXT, seed_sealed TEXT NOT NULL, confirmed BIGINT NOT NULL, last_step_app BIGINT NOT NULL, last_step_sms BIGINT NOT NULL, failed_attempts BIGINT NOT NULL, locked_until BIGINT NOT NULL, authenticator_sealed TEXT, authenticator_created_at BIGINT NOT NULL, authenticator_confirmed BIGINT NOT NULL, last_step_authenticator BIGINT NOT NULL, deleted BIGINT NOT NULL, created_at BIGINT NOT NULL)",
            "INSERT INTO users VALUES (7, 1, 'a@b.c', '5550100', 1, NULL, 'sealed', 1, 0, 0, 9, 0, NULL, 0, 0, 0, 0, 0)",
            "CREATE TABLE approval_requests (uuid TEXT PRIMARY KEY, app_id BIGINT NOT NULL, user_id BIGINT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL, hidden_details TEXT NOT NULL, logos TEXT NOT NULL, status TEXT NOT NULL, seconds_to_expire BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, processed_at BIGINT NOT NULL, notified BIGINT NOT NULL, nonce TEXT NOT NULL, evidence TEXT, number BIGINT NOT NULL DEFAULT 0)",
            "INSERT INTO approval_requests VALUES ('u-1', 1, 7, 'Pay', '[]', '[]', '[]', 'pending', 0, 0, 0, 0, 0, 0, 'n', NULL, 42)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let db = Db::connect(&url).await.unwrap();
    let user = sqlx::query("SELECT failed_attempts, failures_reset_at FROM users WHERE id = 7")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // Nine old failures with no window: the next failure starts a new window (finding 9).
    assert_eq!((user.get::<i64, _>(0), user.get::<i64, _>(1)), (9, 0));
    let request =
        sqlx::query("SELECT number, number_choices FROM approval_requests WHERE uuid = 'u-1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(request.get::<i64, _>(0), 42);
    assert_eq!(request.get::<String, _>(1), "");
    let version: i64 = sqlx::query("SELECT version FROM schema_version")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 2);
}
