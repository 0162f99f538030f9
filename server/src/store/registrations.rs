//! The `registrations` table: one-time device registration codes (stored as hashes), and
//! completing a registration — using the code up and adding the device — in one transaction.

use sqlx::Row;

use super::db::Db;

pub async fn insert(
    db: &Db,
    code_hash: &str,
    app_id: i64,
    user_id: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO registrations (code_hash, app_id, user_id, expires_at, used) VALUES ($1, $2, $3, $4, 0)")
        .bind(code_hash)
        .bind(app_id)
        .bind(user_id)
        .bind(expires_at)
        .execute(&db.writer)
        .await
        .map(|_| ())
}

pub struct NewDevice<'a> {
    pub os: &'a str,
    pub name: &'a str,
    pub public_key: &'a str,
    pub push_token: Option<&'a str>,
}

/// What completing a registration found.
pub enum Completion {
    /// The code is unknown, used or expired.
    CodeInvalid,
    /// The code was valid but its user was deleted meanwhile (nothing is written).
    UserGone,
    Registered(Registered),
}

pub struct Registered {
    pub device_id: i64,
    pub user_id: i64,
    pub email: String,
    pub seed_sealed: String,
    pub app_name: String,
    pub token_length: i64,
}

/// Uses the code up and adds the device, atomically: a second registration with the same
/// code finds it used.
pub async fn complete(
    db: &Db,
    code_hash: &str,
    time: i64,
    device: NewDevice<'_>,
) -> Result<Completion, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("UPDATE registrations SET used = 1 WHERE code_hash = $1 AND used = 0 AND expires_at > $2 RETURNING app_id, user_id")
        .bind(code_hash)
        .bind(time)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(Completion::CodeInvalid);
    };
    let user_id: i64 = row.get(1);
    let inserted = sqlx::query("INSERT INTO devices (user_id, os_type, name, public_key, push_token, revoked, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id")
        .bind(user_id)
        .bind(device.os)
        .bind(device.name)
        .bind(device.public_key)
        .bind(device.push_token)
        .bind(time)
        .fetch_one(&mut *tx)
        .await?;
    let device_id: i64 = inserted.get(0);
    let user = sqlx::query("SELECT u.email, u.seed_sealed, a.name, a.token_length FROM users u JOIN apps a ON a.id = u.app_id WHERE u.id = $1 AND u.deleted = 0")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(user) = user else {
        return Ok(Completion::UserGone);
    };
    tx.commit().await?;
    Ok(Completion::Registered(Registered {
        device_id,
        user_id,
        email: user.get(0),
        seed_sealed: user.get(1),
        app_name: user.get(2),
        token_length: user.get(3),
    }))
}
