//! Deliveries as the operator's console reads them: queued OneTouch callbacks with their
//! attempts, and per-day usage counts. Read only; newest first; bounded by the caller's
//! limit.

use sqlx::Row;

use super::db::Db;

/// One queued callback (its body is not read: it may carry customer data).
pub struct CallbackLine {
    pub id: i64,
    pub app_id: i64,
    pub url: String,
    pub method: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered: bool,
    pub created_at: i64,
}

/// Callbacks of `app_id` (or every app), newest first.
pub async fn callbacks(
    db: &Db,
    app_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<CallbackLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, app_id, url, method, attempts, next_attempt_at, delivered, created_at FROM callbacks
         WHERE ($1 IS NULL OR app_id = $1) ORDER BY id DESC LIMIT $2 OFFSET $3",
    )
    .bind(app_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| CallbackLine {
            id: r.get(0),
            app_id: r.get(1),
            url: r.get(2),
            method: r.get(3),
            attempts: r.get(4),
            next_attempt_at: r.get(5),
            delivered: r.get::<i64, _>(6) != 0,
            created_at: r.get(7),
        })
        .collect())
}

/// Every app's (or one app's) `counters` rows whose kind starts with `prefix` (a literal
/// without wildcards, chosen by the caller), summed over apps.
pub async fn counts_with_prefix(
    db: &Db,
    app_id: Option<i64>,
    prefix: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, CAST(SUM(count) AS BIGINT) FROM counters WHERE ($1 IS NULL OR app_id = $1) AND kind LIKE $2 GROUP BY kind",
    )
    .bind(app_id)
    .bind(format!("{prefix}%"))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}
