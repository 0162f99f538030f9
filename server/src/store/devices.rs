//! The `devices` table: registered phones, their ES256 keys and push tokens.

use sqlx::Row;

use super::db::Db;

/// The OS types of the user's unrevoked devices, oldest first.
pub async fn active_os_types(db: &Db, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT os_type FROM devices WHERE user_id = $1 AND revoked = $2 ORDER BY id")
            .bind(user_id)
            .bind(0i64)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

pub struct DeviceRow {
    pub id: i64,
    pub os_type: String,
    pub name: String,
    pub revoked: bool,
    pub created_at: i64,
    pub last_seen: i64,
    pub push_token: Option<String>,
    pub public_key: String,
}

/// Every device of the user, revoked ones included, oldest first.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<DeviceRow>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, os_type, name, revoked, created_at, last_seen, push_token, public_key FROM devices WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| DeviceRow {
            id: r.get(0),
            os_type: r.get(1),
            name: r.get(2),
            revoked: r.get::<i64, _>(3) != 0,
            created_at: r.get(4),
            last_seen: r.get(5),
            push_token: r.get(6),
            public_key: r.get(7),
        })
        .collect())
}

/// Revokes the user's device; false when the user has no such device.
pub async fn revoke(db: &Db, device_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE devices SET revoked = 1 WHERE id = $1 AND user_id = $2")
        .bind(device_id)
        .bind(user_id)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() != 0)
}

/// What authenticating a device request needs: its user, key (base64url SPKI) and state.
pub struct DeviceKey {
    pub user_id: i64,
    pub public_key: String,
    pub revoked: bool,
}

pub async fn key(db: &Db, device_id: i64) -> Result<Option<DeviceKey>, sqlx::Error> {
    let row = sqlx::query("SELECT user_id, public_key, revoked FROM devices WHERE id = $1")
        .bind(device_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| DeviceKey {
        user_id: r.get(0),
        public_key: r.get(1),
        revoked: r.get::<i64, _>(2) != 0,
    }))
}

/// Records that the device was seen; best effort (a failure only leaves an older time).
pub async fn touch(db: &Db, device_id: i64, time: i64) {
    let _ = sqlx::query("UPDATE devices SET last_seen = $1 WHERE id = $2")
        .bind(time)
        .bind(device_id)
        .execute(&db.writer)
        .await;
}

/// Sets (or, with `None`, clears) the device's push token.
pub async fn set_push_token(
    db: &Db,
    device_id: i64,
    token: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET push_token = $1 WHERE id = $2")
        .bind(token)
        .bind(device_id)
        .execute(&db.writer)
        .await
        .map(|_| ())
}
