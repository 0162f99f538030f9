//! The `apps` table: the API's customers, keyed by the SHA-256 of their API key.

use sqlx::Row;

use super::db::Db;

/// An app as the API sees it (the key itself is never loaded here).
#[derive(Clone, Debug)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub token_length: u32,
    pub callback_url: Option<String>,
    pub callback_method: String,
    /// Whether `verify` accepts transactional TOTP codes for this app.
    pub transactional_totp: bool,
    /// Whether approval requests use number matching when the request does not say.
    pub number_matching: bool,
    /// Approval request lifetimes for this app; 0: the server's setting.
    pub approval_default_seconds: i64,
    pub approval_max_seconds: i64,
    /// An operator suspended the app: its API keys are refused with Authy's 60061.
    pub suspended: bool,
}

const APP_COLUMNS: &str = "id, name, token_length, callback_url, callback_method, transactional_totp, number_matching, approval_default_seconds, approval_max_seconds, suspended";

fn app(row: &sqlx::any::AnyRow) -> App {
    App {
        id: row.get(0),
        name: row.get(1),
        token_length: row.get::<i64, _>(2) as u32,
        callback_url: row.get(3),
        callback_method: row.get(4),
        transactional_totp: row.get::<i64, _>(5) != 0,
        number_matching: row.get::<i64, _>(6) != 0,
        approval_default_seconds: row.get(7),
        approval_max_seconds: row.get(8),
        suspended: row.get::<i64, _>(9) != 0,
    }
}

/// A new app's row; the sealed key is made from the id the insert returns.
pub struct NewApp<'a> {
    pub name: &'a str,
    pub api_key_hash: &'a str,
    pub token_length: u32,
    pub callback_url: Option<String>,
    pub callback_method: &'a str,
    pub created_at: i64,
}

/// Inserts the app, then stores `seal_key(id)` (the key sealed to its row) in the same
/// transaction; returns the id.
pub async fn insert(
    db: &Db,
    app: NewApp<'_>,
    seal_key: impl FnOnce(i64) -> String,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("INSERT INTO apps (name, api_key_hash, api_key_sealed, token_length, callback_url, callback_method, created_at) VALUES ($1, $2, '', $3, $4, $5, $6) RETURNING id")
        .bind(app.name)
        .bind(app.api_key_hash)
        .bind(i64::from(app.token_length))
        .bind(app.callback_url)
        .bind(app.callback_method)
        .bind(app.created_at)
        .fetch_one(&mut *tx)
        .await?;
    let id: i64 = row.get(0);
    sqlx::query("UPDATE apps SET api_key_sealed = $1 WHERE id = $2")
        .bind(seal_key(id))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The app whose current API key hashes to `hash`, or whose previous key does while its
/// grace period (ending at `previous_key_until`) lasts at `now`.
pub async fn by_key_hash(db: &Db, hash: &str, now: i64) -> Result<Option<App>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM apps WHERE api_key_hash = $1 OR (previous_key_hash = $1 AND previous_key_until > $2)"))
        .bind(hash)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(app))
}

/// Every app, by id.
pub async fn list(db: &Db) -> Result<Vec<App>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM apps ORDER BY id"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(app).collect())
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<App>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM apps WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(app))
}

/// A new API key for app `id`: the current key's hash becomes the previous one, valid until
/// `previous_until`; false when there is no such app.
pub async fn rotate_key(
    db: &Db,
    id: i64,
    new_hash: &str,
    new_sealed: &str,
    previous_until: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE apps SET previous_key_hash = api_key_hash, previous_key_until = $4, api_key_hash = $2, api_key_sealed = $3 WHERE id = $1")
        .bind(id)
        .bind(new_hash)
        .bind(new_sealed)
        .bind(previous_until)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether one of app `id`'s users is an operator's push phone (the console's own app).
pub async fn carries_operator_phones(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT o.id FROM operators o JOIN users u ON u.id = o.push_user_id WHERE u.app_id = $1 LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// Deletes app `id` (its users and requests stay, unreachable: no key leads to them).
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM apps WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The app's sealed API key (callbacks are signed with the key itself).
pub async fn sealed_key(db: &Db, app_id: i64) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT api_key_sealed FROM apps WHERE id = $1")
        .bind(app_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Changes to an app; `None` leaves a field as it is. `callback_url: Some(None)` clears it.
#[derive(Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub token_length: Option<u32>,
    pub callback_url: Option<Option<String>>,
    pub callback_method: Option<String>,
    pub transactional_totp: Option<bool>,
    pub number_matching: Option<bool>,
    pub approval_default_seconds: Option<i64>,
    pub approval_max_seconds: Option<i64>,
    pub suspended: Option<bool>,
}

/// Applies `update` in one transaction; false when there is no app `id`.
pub async fn update(db: &Db, id: i64, update: AppUpdate) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let exists = sqlx::query("SELECT id FROM apps WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    if let Some(name) = update.name {
        sqlx::query("UPDATE apps SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(length) = update.token_length {
        sqlx::query("UPDATE apps SET token_length = $1 WHERE id = $2")
            .bind(i64::from(length))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(url) = update.callback_url {
        sqlx::query("UPDATE apps SET callback_url = $1 WHERE id = $2")
            .bind(url)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(method) = update.callback_method {
        sqlx::query("UPDATE apps SET callback_method = $1 WHERE id = $2")
            .bind(method)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let flags = [
        (
            "transactional_totp",
            update.transactional_totp.map(i64::from),
        ),
        ("number_matching", update.number_matching.map(i64::from)),
        ("approval_default_seconds", update.approval_default_seconds),
        ("approval_max_seconds", update.approval_max_seconds),
        ("suspended", update.suspended.map(i64::from)),
    ];
    for (column, value) in flags {
        if let Some(value) = value {
            sqlx::query(&format!("UPDATE apps SET {column} = $1 WHERE id = $2"))
                .bind(value)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
