//! The `device_nonces` table: the replay cache of signed device requests.

use super::db::Db;

/// Remembers `nonce` for `device_id` until `expires_at`; false when it was already seen.
pub async fn remember(db: &Db, device_id: i64, nonce: &str, expires_at: i64) -> bool {
    let inserted =
        sqlx::query("INSERT INTO device_nonces (device_id, nonce, expires_at) VALUES ($1, $2, $3)")
            .bind(device_id)
            .bind(nonce)
            .bind(expires_at)
            .execute(&db.writer)
            .await;
    // Any failure counts as "seen": a nonce is never accepted without being recorded.
    inserted.is_ok()
}

/// Forgets nonces whose requests could no longer be accepted anyway.
pub async fn prune(db: &Db, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device_nonces WHERE expires_at < $1")
        .bind(now)
        .execute(&db.writer)
        .await
        .map(|_| ())
}
