//! The `users` table (and the count of a user's active devices read with it).

use sqlx::Row;

use super::db::Db;

pub struct User {
    pub id: i64,
    pub email: String,
    pub cellphone: String,
    pub country_code: i64,
    pub custom_user_id: Option<String>,
    pub seed_sealed: String,
    pub confirmed: bool,
    pub last_step_app: i64,
    pub last_step_sms: i64,
    pub failed_attempts: i64,
    pub locked_until: i64,
    pub authenticator_sealed: Option<String>,
    pub authenticator_created_at: i64,
    pub authenticator_confirmed: bool,
    pub last_step_authenticator: i64,
    pub created_at: i64,
    /// Registered, unrevoked devices: each received the seed that app codes come from.
    pub active_devices: i64,
}

const USER_COLUMNS: &str = "id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, created_at, (SELECT COUNT(*) FROM devices d WHERE d.user_id = users.id AND d.revoked = 0)";

fn user_from_row(row: &sqlx::any::AnyRow) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        cellphone: row.get(2),
        country_code: row.get(3),
        custom_user_id: row.get(4),
        seed_sealed: row.get(5),
        confirmed: row.get::<i64, _>(6) != 0,
        last_step_app: row.get(7),
        last_step_sms: row.get(8),
        failed_attempts: row.get(9),
        locked_until: row.get(10),
        authenticator_sealed: row.get(11),
        authenticator_created_at: row.get(12),
        authenticator_confirmed: row.get::<i64, _>(13) != 0,
        last_step_authenticator: row.get(14),
        created_at: row.get(15),
        active_devices: row.get(16),
    }
}

/// The app's undeleted user `id`.
pub async fn load(db: &Db, app_id: i64, id: i64) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND app_id = $2 AND deleted = $3"
    ))
    .bind(id)
    .bind(app_id)
    .bind(0i64)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.as_ref().map(user_from_row))
}

/// The app's undeleted user with this phone.
pub async fn id_by_phone(
    db: &Db,
    app_id: i64,
    country_code: i64,
    cellphone: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM users WHERE app_id = $1 AND country_code = $2 AND cellphone = $3 AND deleted = $4")
        .bind(app_id)
        .bind(country_code)
        .bind(cellphone)
        .bind(0i64)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The newest undeleted user with this custom id: (id, confirmed).
pub async fn by_custom_id(
    db: &Db,
    app_id: i64,
    custom_user_id: &str,
) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, confirmed FROM users WHERE app_id = $1 AND custom_user_id = $2 AND deleted = $3 ORDER BY id DESC")
        .bind(app_id)
        .bind(custom_user_id)
        .bind(0i64)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| (r.get(0), r.get::<i64, _>(1) != 0)))
}

pub struct NewUser<'a> {
    pub app_id: i64,
    pub email: &'a str,
    pub cellphone: &'a str,
    pub country_code: i64,
    pub custom_user_id: Option<&'a str>,
    pub created_at: i64,
}

/// Inserts the user, then stores `seal_seed(id)` (the seed sealed to its row) in the same
/// transaction; returns the id.
pub async fn insert(
    db: &Db,
    user: NewUser<'_>,
    seal_seed: impl FnOnce(i64) -> String,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "INSERT INTO users (app_id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, deleted, created_at)
         VALUES ($1, $2, $3, $4, $5, '', $6, 0, 0, 0, 0, NULL, 0, $7, 0, $8, $9) RETURNING id",
    )
    .bind(user.app_id)
    .bind(user.email)
    .bind(user.cellphone)
    .bind(user.country_code)
    .bind(user.custom_user_id)
    .bind(0i64)
    .bind(0i64)
    .bind(0i64)
    .bind(user.created_at)
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = row.get(0);
    sqlx::query("UPDATE users SET seed_sealed = $1 WHERE id = $2")
        .bind(seal_seed(id))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Marks the user deleted, destroys its secrets and revokes its devices. The row stays, so
/// ids are never reused.
pub async fn delete(db: &Db, user_id: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET deleted = $1, seed_sealed = '', authenticator_sealed = NULL WHERE id = $2").bind(1i64).bind(user_id).execute(&mut *tx).await?;
    sqlx::query("UPDATE devices SET revoked = $1 WHERE user_id = $2")
        .bind(1i64)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Replaces the user's authenticator secret with a new, unconfirmed one.
pub async fn set_authenticator(
    db: &Db,
    user_id: i64,
    sealed: &str,
    created_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET authenticator_sealed = $1, authenticator_created_at = $2, authenticator_confirmed = $3, last_step_authenticator = 0 WHERE id = $4")
        .bind(sealed)
        .bind(created_at)
        .bind(0i64)
        .bind(user_id)
        .execute(&db.writer)
        .await
        .map(|_| ())
}

/// The number of the app's undeleted users.
pub async fn count(db: &Db, app_id: i64) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM users WHERE app_id = $1 AND deleted = $2")
            .bind(app_id)
            .bind(0i64)
            .fetch_one(&db.pool)
            .await?
            .get(0),
    )
}
