//! The `verification_log` table: one row per decided code verification (outcome, channel,
//! time — never the code), so an operator can see a user's recent verifications in the
//! console. Rows are read newest first, a bounded number at a time.

use sqlx::Row;

use super::db::Db;

/// One logged verification.
pub struct VerificationRow {
    pub outcome: String,
    pub channel: String,
    pub created_at: i64,
}

/// Appends one verification's outcome.
pub async fn insert(
    db: &Db,
    app_id: i64,
    user_id: i64,
    outcome: &str,
    channel: &str,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO verification_log (app_id, user_id, outcome, channel, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(app_id)
        .bind(user_id)
        .bind(outcome)
        .bind(channel)
        .bind(created_at)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The user's latest `limit` verifications, newest first.
pub async fn recent(
    db: &Db,
    user_id: i64,
    limit: i64,
) -> Result<Vec<VerificationRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT outcome, channel, created_at FROM verification_log WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(user_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| VerificationRow {
            outcome: r.get(0),
            channel: r.get(1),
            created_at: r.get(2),
        })
        .collect())
}
