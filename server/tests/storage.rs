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

/// The operators' logs keep their retention and no more; stale per-address sign-in counts go.
/// A round looks only at the oldest rows, so it stays cheap on a large table.
#[tokio::test]
async fn old_log_rows_are_pruned_and_recent_ones_kept() {
    use countersign_server::store::retention;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&common::fresh_database_url(dir.path()))
        .await
        .unwrap();
    let statements = [
        "INSERT INTO verification_log (app_id, user_id, outcome, channel, created_at) VALUES (1, 7, 'valid', 'sms', $1)",
        "INSERT INTO push_log (uuid, device_id, os, state, reason, created_at) VALUES ('u', 3, 'android', 'sent', '', $1)",
        "INSERT INTO message_log (app_id, channel, recipient, state, reason, created_at) VALUES (1, 'sms', '+44…', 'sent', '', $1)",
    ];
    // Per table: 3 old rows, then 2 recent ones.
    for statement in statements {
        for created_at in [100, 200, 300, 5_000, 6_000] {
            sqlx::query(statement)
                .bind(created_at)
                .execute(&db.writer)
                .await
                .unwrap();
        }
    }
    assert_eq!(retention::prune_logs(&db, 1_000).await.unwrap(), 9);
    assert_eq!(retention::prune_logs(&db, 1_000).await.unwrap(), 0);
    for table in ["verification_log", "push_log", "message_log"] {
        let kept: Vec<i64> = sqlx::query(&format!(
            "SELECT created_at FROM {table} ORDER BY created_at"
        ))
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        assert_eq!(kept, [5_000, 6_000], "{table}");
    }
    for (address, since) in [("192.0.2.1", 10), ("192.0.2.2", 990)] {
        sqlx::query("INSERT INTO console_address_attempts (address, attempts, attempts_since) VALUES ($1, 3, $2)")
            .bind(address)
            .bind(since)
            .execute(&db.writer)
            .await
            .unwrap();
    }
    assert_eq!(
        retention::prune_address_attempts(&db, 500).await.unwrap(),
        1
    );
    let left: String = sqlx::query("SELECT address FROM console_address_attempts")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, "192.0.2.2");
}

/// A round deletes at most a batch per table: a large backlog goes over several rounds.
#[tokio::test]
async fn one_pruning_statement_looks_at_one_batch() {
    use countersign_server::store::retention;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&common::fresh_database_url(dir.path()))
        .await
        .unwrap();
    let rows = retention::BATCH + 700;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO verification_log (app_id, user_id, outcome, channel, created_at) \
         SELECT 1, i, 'valid', 'sms', 10 FROM n",
    )
    .bind(rows)
    .execute(&db.writer)
    .await
    .unwrap();
    assert_eq!(
        retention::prune_logs(&db, 1_000).await.unwrap(),
        retention::BATCH as u64
    );
    assert_eq!(retention::prune_logs(&db, 1_000).await.unwrap(), 700);
}

/// Two processes on one SQLite file (a server and a CLI command): a transaction that reads
/// before it writes must wait for the other's write lock, not fail at once with "database is
/// locked" because the other committed in between (the flake seen with `app update` beside
/// a running server). Write transactions take the lock at BEGIN.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_then_write_transaction_waits_for_another_process_writes() {
    use countersign_server::store::apps::{self, AppUpdate};
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path());
    let server = Db::connect(&url).await.unwrap();
    let cli = Db::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO apps (id, name, api_key_hash, api_key_sealed, token_length, callback_method, created_at) VALUES (1, 'Bank', 'h', 's', 7, 'POST', 0)")
        .execute(&server.writer)
        .await
        .unwrap();
    let busy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (server, busy) = (server.clone(), busy.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while busy.load(std::sync::atomic::Ordering::Relaxed) {
                server.probe_write(n).await.unwrap();
                n += 1;
            }
        })
    };
    for i in 0..60 {
        let update = AppUpdate {
            name: Some(format!("Bank {i}")),
            ..AppUpdate::default()
        };
        let updated = apps::update(&cli, 1, update).await;
        assert!(matches!(updated, Ok(true)), "update {i}: {updated:?}");
    }
    busy.store(false, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
}
