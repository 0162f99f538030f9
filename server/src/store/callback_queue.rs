//! The callback queue's leases, in SQL. A due row is leased in one atomic statement that sets
//! its lease expiry (`next_attempt_at`, from the clock read just before the statement) and a
//! fresh owner token; every later change (delivered, failed, handed back) names that token, so
//! only the current leaseholder can make it. With PostgreSQL the candidates are locked with
//! `FOR UPDATE SKIP LOCKED`, so instances leasing at the same moment take disjoint rows;
//! SQLite runs one writer at a time, so its single conditional `UPDATE` is enough.

use sqlx::Row;

use super::db::{Db, Dialect};
use crate::clock::{now, random_token};

/// Apps with due callbacks considered per round.
const MAX_APPS_PER_ROUND: i64 = 1000;

/// A callback this instance holds the lease of.
#[derive(Debug)]
pub struct Leased {
    pub id: i64,
    pub app_id: i64,
    pub url: String,
    pub method: String,
    pub body: String,
    /// Failed attempts before this one.
    pub attempts: i64,
    pub token: String,
}

/// Apps that have callbacks due now.
pub async fn due_apps(db: &Db, max_attempts: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT app_id FROM callbacks WHERE delivered = 0 AND attempts < $1 AND next_attempt_at <= $2 ORDER BY app_id LIMIT $3",
    )
    .bind(max_attempts)
    .bind(now())
    .bind(MAX_APPS_PER_ROUND)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// How a lease is taken: rows with fewer than `max_attempts` attempts are due; a lease lasts
/// `seconds`.
#[derive(Clone, Copy, Debug)]
pub struct LeaseTerms {
    pub seconds: i64,
    pub max_attempts: i64,
}

/// Leases up to `limit` of `app_id`'s due callbacks, oldest first.
pub async fn lease(
    db: &Db,
    terms: LeaseTerms,
    app_id: i64,
    limit: usize,
) -> Result<Vec<Leased>, sqlx::Error> {
    let skip_locked = match db.dialect {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    // The due test is repeated outside the subquery: PostgreSQL re-checks it on the current
    // row version if another transaction changed the row meanwhile.
    let statement = format!(
        "UPDATE callbacks SET next_attempt_at = $1, lease_token = $2
         WHERE id IN (SELECT id FROM callbacks WHERE app_id = $3 AND delivered = 0 AND attempts < $4 AND next_attempt_at <= $5 ORDER BY id LIMIT $6 {skip_locked})
           AND delivered = 0 AND next_attempt_at <= $5
         RETURNING id, url, method, body, attempts"
    );
    let token = random_token();
    let time = now();
    let rows = sqlx::query(&statement)
        .bind(time + terms.seconds)
        .bind(&token)
        .bind(app_id)
        .bind(terms.max_attempts)
        .bind(time)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&db.writer)
        .await?;
    Ok(rows
        .iter()
        .map(|row| Leased {
            id: row.get(0),
            app_id,
            url: row.get(1),
            method: row.get(2),
            body: row.get(3),
            attempts: row.get(4),
            token: token.clone(),
        })
        .collect())
}

/// Marks the callback delivered and its approval request notified; false when the lease was
/// no longer ours (it expired and another instance took it).
pub async fn mark_delivered(
    db: &Db,
    callback: &Leased,
    request_uuid: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let marked = sqlx::query(
        "UPDATE callbacks SET delivered = 1, attempts = attempts + 1, lease_token = NULL WHERE id = $1 AND lease_token = $2",
    )
    .bind(callback.id)
    .bind(&callback.token)
    .execute(&mut *tx)
    .await?;
    if marked.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE approval_requests SET notified = 1 WHERE uuid = $1")
        .bind(request_uuid)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Counts a failed attempt and schedules the next at `retry_at` (unix seconds).
pub async fn mark_failed(db: &Db, callback: &Leased, retry_at: i64) -> Result<bool, sqlx::Error> {
    let marked = sqlx::query(
        "UPDATE callbacks SET attempts = attempts + 1, next_attempt_at = $1, lease_token = NULL WHERE id = $2 AND lease_token = $3",
    )
    .bind(retry_at)
    .bind(callback.id)
    .bind(&callback.token)
    .execute(&db.writer)
    .await?;
    Ok(marked.rows_affected() == 1)
}

/// Gives an unfinished delivery back: due at once, for any instance, not counted as an attempt.
pub async fn hand_back(db: &Db, callback: &Leased) -> Result<bool, sqlx::Error> {
    let released = sqlx::query(
        "UPDATE callbacks SET next_attempt_at = $1, lease_token = NULL WHERE id = $2 AND lease_token = $3 AND delivered = 0",
    )
    .bind(now())
    .bind(callback.id)
    .bind(&callback.token)
    .execute(&db.writer)
    .await?;
    Ok(released.rows_affected() == 1)
}

/// Callbacks still to be delivered (fewer than `max_attempts` attempts): the queue depth
/// `/metrics` reports.
pub async fn depth(db: &Db, max_attempts: i64) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) FROM callbacks WHERE delivered = 0 AND attempts < $1")
        .bind(max_attempts)
        .fetch_one(&db.pool)
        .await?;
    row.try_get(0)
}
