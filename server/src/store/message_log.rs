//! The `message_log` table: one row per SMS or voice call handed to the provider (app,
//! channel, recipient, outcome and the provider's refusal — never the text, which holds a
//! code), for the console's deliveries page. Read newest first, bounded.

use sqlx::Row;

use super::db::Db;

/// Longest refusal reason kept, in characters.
const MAX_REASON: usize = 200;

/// One message handed to the provider.
pub struct MessageAttempt<'a> {
    pub app_id: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
    /// `sent` or `failed`.
    pub state: &'a str,
    pub reason: &'a str,
    pub time: i64,
}

pub async fn insert(db: &Db, attempt: &MessageAttempt<'_>) -> Result<(), sqlx::Error> {
    let reason: String = attempt.reason.chars().take(MAX_REASON).collect();
    sqlx::query("INSERT INTO message_log (app_id, channel, recipient, state, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(attempt.app_id)
        .bind(attempt.channel)
        .bind(attempt.recipient)
        .bind(attempt.state)
        .bind(reason)
        .bind(attempt.time)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// A logged message.
pub struct MessageLine {
    pub id: i64,
    pub app_id: i64,
    pub channel: String,
    pub recipient: String,
    pub state: String,
    pub reason: String,
    pub created_at: i64,
}

/// Messages of `app_id` (or every app) on `channel` (or any), newest first.
pub async fn recent(
    db: &Db,
    app_id: Option<i64>,
    channel: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<MessageLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, app_id, channel, recipient, state, reason, created_at FROM message_log
         WHERE ($1 IS NULL OR app_id = $1) AND ($2 IS NULL OR channel = $2) ORDER BY id DESC LIMIT $3 OFFSET $4",
    )
    .bind(app_id)
    .bind(channel)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| MessageLine {
            id: r.get(0),
            app_id: r.get(1),
            channel: r.get(2),
            recipient: r.get(3),
            state: r.get(4),
            reason: r.get(5),
            created_at: r.get(6),
        })
        .collect())
}
