//! The `server_keys` table: the server's ES256 key, sealed, created by the first instance
//! that needs it.

use sqlx::Row;

use super::db::Db;

pub async fn sealed_secret(db: &Db) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT secret_sealed FROM server_keys WHERE id = 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Stores the key unless another instance stored one first (then nothing changes; callers
/// read the winner back).
pub async fn insert_if_absent(db: &Db, sealed: &str, created_at: i64) {
    let _ =
        sqlx::query("INSERT INTO server_keys (id, secret_sealed, created_at) VALUES (1, $1, $2)")
            .bind(sealed)
            .bind(created_at)
            .execute(&db.writer)
            .await;
}
