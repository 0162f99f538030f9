//! The `approval_requests` table, apart from the state changes that queue a callback (those
//! live with the callbacks, in one transaction with their queue row).

use serde_json::Value;
use sqlx::Row;

use super::db::Db;

pub struct NewRequest<'a> {
    pub uuid: &'a str,
    pub app_id: i64,
    pub user_id: i64,
    pub message: &'a str,
    pub details: String,
    pub hidden: String,
    pub logos: String,
    pub seconds: i64,
    pub time: i64,
    pub nonce: String,
    pub number: i64,
    pub choices: String,
}

/// Pending, unexpired requests of the app and of the user, counted under the app row's lock.
pub struct Limits {
    pub per_app: i64,
    pub per_user: i64,
}

/// Inserts the request unless the app or the user already has as many pending requests as
/// `limits` allow; false when refused. The app's row is locked first, so concurrent inserts
/// of one app are counted one after the other.
pub async fn insert_within(
    db: &Db,
    r: &NewRequest<'_>,
    limits: Limits,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE apps SET name = name WHERE id = $1")
        .bind(r.app_id)
        .execute(&mut *tx)
        .await?;
    let pending = "SELECT COUNT(*) FROM approval_requests WHERE status = 'pending' AND (expires_at = 0 OR expires_at > $1)";
    let per_app: i64 = sqlx::query(&format!("{pending} AND app_id = $2"))
        .bind(r.time)
        .bind(r.app_id)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let per_user: i64 = sqlx::query(&format!("{pending} AND user_id = $2"))
        .bind(r.time)
        .bind(r.user_id)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    if per_app >= limits.per_app || per_user >= limits.per_user {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO approval_requests (uuid, app_id, user_id, message, details, hidden_details, logos, status, seconds_to_expire, created_at, expires_at, updated_at, processed_at, notified, nonce, number, number_choices)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $9, 0, $11, $12, $13, $14)",
    )
    .bind(r.uuid)
    .bind(r.app_id)
    .bind(r.user_id)
    .bind(r.message)
    .bind(&r.details)
    .bind(&r.hidden)
    .bind(&r.logos)
    .bind(r.seconds)
    .bind(r.time)
    .bind(r.time + r.seconds)
    .bind(0i64)
    .bind(&r.nonce)
    .bind(r.number)
    .bind(&r.choices)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A request as its app's status route shows it.
pub struct Status {
    pub user_id: i64,
    pub status: String,
    pub seconds_to_expire: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub processed_at: i64,
    pub notified: bool,
    pub expires_at: i64,
    pub user_email: String,
    pub number: i64,
    pub message: String,
    /// Stored `[[key, value], …]` pairs (see [`details_object`]).
    pub details: String,
    pub hidden_details: String,
    /// Stored JSON array of `{res, url}` objects.
    pub logos: String,
}

pub async fn status(db: &Db, uuid: &str, app_id: i64) -> Result<Option<Status>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.user_id, r.status, r.seconds_to_expire, r.created_at, r.updated_at, r.processed_at, r.notified, r.expires_at, u.email, r.number,
         r.message, r.details, r.hidden_details, r.logos
         FROM approval_requests r JOIN users u ON u.id = r.user_id WHERE r.uuid = $1 AND r.app_id = $2",
    )
    .bind(uuid)
    .bind(app_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|row| Status {
        user_id: row.get(0),
        status: row.get(1),
        seconds_to_expire: row.get(2),
        created_at: row.get(3),
        updated_at: row.get(4),
        processed_at: row.get(5),
        notified: row.get::<i64, _>(6) != 0,
        expires_at: row.get(7),
        user_email: row.get(8),
        number: row.get(9),
        message: row.get(10),
        details: row.get(11),
        hidden_details: row.get(12),
        logos: row.get(13),
    }))
}

/// The device that answered a request, as the status route shows it.
pub struct AnsweringDevice {
    pub id: i64,
    pub os_type: String,
    pub registered_at: i64,
    pub last_seen: i64,
}

/// The user's device `device_id` (revoked or not: it answered while registered).
pub async fn answering_device(
    db: &Db,
    device_id: i64,
    user_id: i64,
) -> Result<Option<AnsweringDevice>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, os_type, created_at, last_seen FROM devices WHERE id = $1 AND user_id = $2",
    )
    .bind(device_id)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|row| AnsweringDevice {
        id: row.get(0),
        os_type: row.get(1),
        registered_at: row.get(2),
        last_seen: row.get(3),
    }))
}

/// A pending request as the phone is shown it (details as stored JSON pairs).
pub struct Challenge {
    pub uuid: String,
    pub message: String,
    pub details: String,
    pub hidden_details: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub nonce: String,
    pub number: i64,
    pub number_choices: String,
}

/// The user's pending, unexpired requests, oldest first.
pub async fn pending_for_user(
    db: &Db,
    user_id: i64,
    time: i64,
) -> Result<Vec<Challenge>, sqlx::Error> {
    let rows = sqlx::query("SELECT uuid, message, details, hidden_details, created_at, expires_at, nonce, number, number_choices FROM approval_requests WHERE user_id = $1 AND status = 'pending' AND (expires_at = 0 OR expires_at > $2) ORDER BY created_at")
        .bind(user_id)
        .bind(time)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|row| Challenge {
            uuid: row.get(0),
            message: row.get(1),
            details: row.get(2),
            hidden_details: row.get(3),
            created_at: row.get(4),
            expires_at: row.get(5),
            nonce: row.get(6),
            number: row.get(7),
            number_choices: row.get(8),
        })
        .collect())
}

/// Stores `choices` for a request whose stored choices are still `stored` (only the first
/// writer wins), then reads back what is stored.
pub async fn settle_number_choices(
    db: &Db,
    uuid: &str,
    stored: &str,
    choices: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "UPDATE approval_requests SET number_choices = $1 WHERE uuid = $2 AND number_choices = $3",
    )
    .bind(choices)
    .bind(uuid)
    .bind(stored)
    .execute(&db.writer)
    .await?;
    let row = sqlx::query("SELECT number_choices FROM approval_requests WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(&db.writer)
        .await?;
    Ok(row.get(0))
}

/// What checking a device's answer needs of its request.
pub struct Answerable {
    pub user_id: i64,
    pub status: String,
    pub expires_at: i64,
    pub message: String,
    pub details: String,
    pub hidden_details: String,
    pub nonce: String,
    pub number: i64,
}

pub async fn answerable(db: &Db, uuid: &str) -> Result<Option<Answerable>, sqlx::Error> {
    let row = sqlx::query("SELECT user_id, status, expires_at, message, details, hidden_details, nonce, number FROM approval_requests WHERE uuid = $1")
        .bind(uuid)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|row| Answerable {
        user_id: row.get(0),
        status: row.get(1),
        expires_at: row.get(2),
        message: row.get(3),
        details: row.get(4),
        hidden_details: row.get(5),
        nonce: row.get(6),
        number: row.get(7),
    }))
}

/// Stored `[[key, value], …]` pairs as a JSON object.
pub fn details_object(stored: &str) -> Value {
    let list: Vec<(String, String)> = serde_json::from_str(stored).unwrap_or_default();
    Value::Object(
        list.into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}
