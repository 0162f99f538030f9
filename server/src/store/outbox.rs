//! The `log` SMS provider's `outbox` table: messages are written here instead of being sent
//! (development and tests read them with `countersign-server outbox`).

use sqlx::Row;

use crate::store::db::Db;

/// One stored message; `sealed_body` is sealed with the master key by the caller.
pub struct OutboxRow {
    pub id: i64,
    pub app_id: i64,
    pub channel: String,
    pub recipient: String,
    pub sealed_body: String,
    pub created_at: i64,
}

/// Appends a message.
pub async fn insert(
    db: &Db,
    app_id: i64,
    channel: &str,
    recipient: &str,
    sealed_body: &str,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox (app_id, channel, recipient, body, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(app_id)
        .bind(channel)
        .bind(recipient)
        .bind(sealed_body)
        .bind(created_at)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Every message, oldest first.
pub async fn all(db: &Db) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, app_id, channel, recipient, body, created_at FROM outbox ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| OutboxRow {
            id: r.get(0),
            app_id: r.get(1),
            channel: r.get(2),
            recipient: r.get(3),
            sealed_body: r.get(4),
            created_at: r.get(5),
        })
        .collect())
}
