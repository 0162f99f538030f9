//! The `push_log` table: one row per push attempted for an approval request (device, OS,
//! outcome, the provider's reason when it refused — never the token), for the console's
//! deliveries page. Written by `delivery::notify_user`; read newest first, bounded.

use sqlx::Row;

use super::db::Db;

/// Longest refusal reason kept, in characters.
const MAX_REASON: usize = 200;

/// One push attempt.
pub struct PushAttempt<'a> {
    pub uuid: &'a str,
    pub device_id: i64,
    pub os: &'a str,
    /// `sent`, `unregistered` or `failed`.
    pub state: &'a str,
    pub reason: &'a str,
    pub time: i64,
}

pub async fn insert(db: &Db, attempt: &PushAttempt<'_>) -> Result<(), sqlx::Error> {
    let reason: String = attempt.reason.chars().take(MAX_REASON).collect();
    sqlx::query("INSERT INTO push_log (uuid, device_id, os, state, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(attempt.uuid)
        .bind(attempt.device_id)
        .bind(attempt.os)
        .bind(attempt.state)
        .bind(reason)
        .bind(attempt.time)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// A logged push with its request's app.
pub struct PushLine {
    pub id: i64,
    pub app_id: i64,
    pub uuid: String,
    pub device_id: i64,
    pub os: String,
    pub state: String,
    pub reason: String,
    pub created_at: i64,
}

/// Pushes for requests of `app_id` (or every app), newest first.
pub async fn recent(
    db: &Db,
    app_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<PushLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.id, r.app_id, p.uuid, p.device_id, p.os, p.state, p.reason, p.created_at
         FROM push_log p JOIN approval_requests r ON r.uuid = p.uuid
         WHERE ($1 IS NULL OR r.app_id = $1) ORDER BY p.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(app_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| PushLine {
            id: r.get(0),
            app_id: r.get(1),
            uuid: r.get(2),
            device_id: r.get(3),
            os: r.get(4),
            state: r.get(5),
            reason: r.get(6),
            created_at: r.get(7),
        })
        .collect())
}
