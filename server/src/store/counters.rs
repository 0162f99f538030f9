//! The `counters` table: statistics counts per (app, event kind), added to by every instance.

use sqlx::Row;

use super::db::Db;

/// Adds each `((app_id, kind), count)` in the given order inside one transaction: callers
/// sort the keys, so two instances lock rows in the same order and cannot deadlock.
pub async fn add(db: &Db, sorted: &[((i64, &str), i64)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    for ((app_id, kind), count) in sorted {
        sqlx::query(
            "INSERT INTO counters (app_id, kind, count) VALUES ($1, $2, $3)
             ON CONFLICT (app_id, kind) DO UPDATE SET count = counters.count + excluded.count",
        )
        .bind(*app_id)
        .bind(*kind)
        .bind(*count)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The app's counts per event kind.
pub async fn for_app(db: &Db, app_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT kind, count FROM counters WHERE app_id = $1")
        .bind(app_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}
