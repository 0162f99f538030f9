//! The `operators` table (the console's accounts) and the login attempt counters, per
//! account and per client address. The counters are raised in one statement before a
//! password is checked, so concurrent guesses (on any number of instances) cannot slip past
//! the limit between a read and a write.

use sqlx::Row;

use super::db::Db;

/// An operator as the console sees it (the password hash is loaded only to check it).
#[derive(Clone, Debug)]
pub struct Operator {
    pub id: i64,
    pub email: String,
    pub totp_sealed: Option<String>,
    pub push_user_id: Option<i64>,
    pub disabled: bool,
}

pub struct NewOperator<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub push_user_id: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, totp_sealed, push_user_id, disabled";

fn operator(row: &sqlx::any::AnyRow) -> Operator {
    Operator {
        id: row.get(0),
        email: row.get(1),
        totp_sealed: row.get(2),
        push_user_id: row.get(3),
        disabled: row.get::<i64, _>(4) != 0,
    }
}

/// Inserts an operator, then stores `seal_totp(id)` (a TOTP secret sealed to its row) when
/// given; returns the id, or `None` when the email is taken.
pub async fn insert(
    db: &Db,
    new: NewOperator<'_>,
    seal_totp: Option<impl FnOnce(i64) -> String>,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("INSERT INTO operators (email, password_hash, push_user_id, disabled, attempts, attempts_since, created_at) VALUES ($1, $2, $3, 0, 0, 0, $4) ON CONFLICT (email) DO NOTHING RETURNING id")
        .bind(new.email)
        .bind(new.password_hash)
        .bind(new.push_user_id)
        .bind(new.created_at)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: i64 = row.get(0);
    if let Some(seal) = seal_totp {
        sqlx::query("UPDATE operators SET totp_sealed = $1 WHERE id = $2")
            .bind(seal(id))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(id))
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Operator>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM operators WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(operator))
}

/// The operator and their password hash, by email.
pub async fn with_password(
    db: &Db,
    email: &str,
) -> Result<Option<(Operator, String)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, password_hash FROM operators WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(&db.writer)
    .await?;
    Ok(row.map(|row| (operator(&row), row.get(5))))
}

pub async fn list(db: &Db) -> Result<Vec<Operator>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM operators ORDER BY id"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(operator).collect())
}

/// Disables an operator and ends their sessions; false when there is no such operator.
pub async fn disable(db: &Db, email: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query("UPDATE operators SET disabled = 1 WHERE email = $1 RETURNING id")
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    sqlx::query("DELETE FROM console_sessions WHERE operator_id = $1")
        .bind(row.get::<i64, _>(0))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Counts one login attempt for the account `email` in the window that began at or after
/// `window_start` (an older window starts again at 1); returns the count, `None` when there
/// is no such account.
pub async fn count_account_attempt(
    db: &Db,
    email: &str,
    now: i64,
    window_start: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("UPDATE operators SET attempts = CASE WHEN attempts_since < $2 THEN 1 ELSE attempts + 1 END, attempts_since = CASE WHEN attempts_since < $2 THEN $3 ELSE attempts_since END WHERE email = $1 RETURNING attempts")
        .bind(email)
        .bind(window_start)
        .bind(now)
        .fetch_optional(&db.writer)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Counts one login attempt from `address`, like [`count_account_attempt`].
pub async fn count_address_attempt(
    db: &Db,
    address: &str,
    now: i64,
    window_start: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("INSERT INTO console_address_attempts (address, attempts, attempts_since) VALUES ($1, 1, $3) ON CONFLICT (address) DO UPDATE SET attempts = CASE WHEN console_address_attempts.attempts_since < $2 THEN 1 ELSE console_address_attempts.attempts + 1 END, attempts_since = CASE WHEN console_address_attempts.attempts_since < $2 THEN $3 ELSE console_address_attempts.attempts_since END RETURNING attempts")
        .bind(address)
        .bind(window_start)
        .bind(now)
        .fetch_one(&db.writer)
        .await?;
    Ok(row.get(0))
}

/// A successful login: the account's attempts start again from zero.
pub async fn clear_account_attempts(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE operators SET attempts = 0 WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Records TOTP time step `step` as used by operator `id`; false when it (or a later step)
/// was used already: a code is accepted once.
pub async fn use_totp_step(db: &Db, id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE operators SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
    )
    .bind(id)
    .bind(step)
    .execute(&db.writer)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The app that holds the operators' phones (the app of the first operator with one).
pub async fn console_app_id(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT u.app_id FROM operators o JOIN users u ON u.id = o.push_user_id ORDER BY o.id LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.get(0)))
}
