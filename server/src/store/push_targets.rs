//! The push side of `devices` and `approval_requests`: which devices of a user can be pushed
//! to, forgetting a token a provider reported dead, and marking a request notified.

use sqlx::Row;

use crate::store::db::Db;

/// An active device with a push token.
pub struct PushTargetRow {
    pub device_id: i64,
    pub os: String,
    pub token: String,
}

/// The user's devices that are not revoked and have a push token.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<PushTargetRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, os_type, push_token FROM devices WHERE user_id = $1 AND revoked = 0 AND push_token IS NOT NULL AND push_token <> ''",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| PushTargetRow {
            device_id: r.get(0),
            os: r.get(1),
            token: r.get(2),
        })
        .collect())
}

/// Drops a device's push token (the provider said it is no longer valid).
pub async fn forget_token(db: &Db, device_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET push_token = NULL WHERE id = $1")
        .bind(device_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Records that approval request `uuid` reached at least one device.
pub async fn mark_notified(db: &Db, uuid: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE approval_requests SET notified = 1 WHERE uuid = $1")
        .bind(uuid)
        .execute(&db.writer)
        .await?;
    Ok(())
}
