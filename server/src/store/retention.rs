//! Pruning of the operators' logs (`verification_log`, `push_log`, `message_log`) past their
//! retention, and of the console's per-address sign-in counts past their window: without it
//! a flood of requests, or of sign-in attempts from many addresses, grows them for ever.
//!
//! Each statement looks only at the oldest [`BATCH`] rows (ids grow with time), so a round
//! costs the same however large the table is, and holds the single writer briefly.

use super::db::Db;

/// Rows one statement examines.
pub const BATCH: i64 = 5_000;

/// The tables pruned by age, each with an increasing `id` and a `created_at`.
const LOGS: [&str; 3] = ["verification_log", "push_log", "message_log"];

/// Deletes, among the oldest [`BATCH`] rows of each log, those created before `before`;
/// returns how many rows went.
pub async fn prune_logs(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    for table in LOGS {
        let statement = format!(
            "DELETE FROM {table} WHERE created_at < $1 AND id IN (SELECT id FROM {table} ORDER BY id LIMIT $2)"
        );
        deleted += sqlx::query(&statement)
            .bind(before)
            .bind(BATCH)
            .execute(&db.writer)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// Deletes the console's per-address sign-in counts whose window began before
/// `window_start` (they would start again at 1 anyway).
pub async fn prune_address_attempts(db: &Db, window_start: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM console_address_attempts WHERE attempts_since < $1")
        .bind(window_start)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected())
}
