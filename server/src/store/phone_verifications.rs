//! The `phone_verifications` table: codes sent to verify a phone number (stored as hashes),
//! with a bounded number of checks.

use sqlx::Row;

use super::db::Db;

pub struct NewVerification<'a> {
    pub app_id: i64,
    pub country_code: i64,
    pub phone: &'a str,
    pub code_hash: &'a str,
    pub uuid: &'a str,
    pub expires_at: i64,
    pub created_at: i64,
}

pub async fn insert(db: &Db, v: NewVerification<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO phone_verifications (app_id, country_code, phone, code_hash, uuid, attempts, expires_at, verified, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)")
        .bind(v.app_id)
        .bind(v.country_code)
        .bind(v.phone)
        .bind(v.code_hash)
        .bind(v.uuid)
        .bind(v.expires_at)
        .bind(0i64)
        .bind(v.created_at)
        .execute(&db.writer)
        .await
        .map(|_| ())
}

pub struct Pending {
    pub id: i64,
    pub uuid: String,
    pub code_hash: String,
    pub verified: bool,
}

/// The newest unexpired verification of this phone.
pub async fn newest(
    db: &Db,
    app_id: i64,
    country_code: i64,
    phone: &str,
    time: i64,
) -> Result<Option<Pending>, sqlx::Error> {
    let row = sqlx::query("SELECT id, uuid, code_hash, verified FROM phone_verifications WHERE app_id = $1 AND country_code = $2 AND phone = $3 AND expires_at > $4 ORDER BY id DESC")
        .bind(app_id)
        .bind(country_code)
        .bind(phone)
        .bind(time)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| Pending {
        id: r.get(0),
        uuid: r.get(1),
        code_hash: r.get(2),
        verified: r.get::<i64, _>(3) != 0,
    }))
}

/// Records one check: marks the verification verified (`correct`) or counts a wrong code,
/// only while it is unverified and has fewer than `max_checks` wrong codes. True when written.
pub async fn record_check(
    db: &Db,
    id: i64,
    correct: bool,
    max_checks: i64,
) -> Result<bool, sqlx::Error> {
    let write = if correct {
        "UPDATE phone_verifications SET verified = 1 WHERE id = $1 AND verified = 0 AND attempts < $2"
    } else {
        "UPDATE phone_verifications SET attempts = attempts + 1 WHERE id = $1 AND verified = 0 AND attempts < $2"
    };
    Ok(sqlx::query(write)
        .bind(id)
        .bind(max_checks)
        .execute(&db.writer)
        .await?
        .rows_affected()
        == 1)
}

/// Whether the verification is verified now (read from the writer: just after a write).
pub async fn is_verified(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT verified FROM phone_verifications WHERE id = $1")
        .bind(id)
        .fetch_one(&db.writer)
        .await?;
    Ok(row.get::<i64, _>(0) != 0)
}

/// The newest verification of this phone, expired or not: (verified, expires_at).
pub async fn latest_state(
    db: &Db,
    app_id: i64,
    country_code: i64,
    phone: &str,
) -> Result<Option<(bool, i64)>, sqlx::Error> {
    let row = sqlx::query("SELECT verified, expires_at FROM phone_verifications WHERE app_id = $1 AND country_code = $2 AND phone = $3 ORDER BY id DESC LIMIT 1")
        .bind(app_id)
        .bind(country_code)
        .bind(phone)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| (r.get::<i64, _>(0) != 0, r.get(1))))
}
