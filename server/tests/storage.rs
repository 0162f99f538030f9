//! The storage layer's own promises (server/src/db.rs), tested on a real database.

use countersign_server::db::Db;
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
        started.elapsed() < countersign_server::db::ACQUIRE_TIMEOUT * 2,
        "{:?}",
        started.elapsed()
    );
}
