//! Codes sent by SMS or voice call. Only a code that was actually sent, and only while it is
//! valid, can be accepted: each send is remembered as a row whose `step` numbers the code,
//! and an accepted code marks its row used. A request within 30 s of the last send gets
//! that code again while it is unused (as Authy re-sends the same code); otherwise, and
//! always once it was used, a fresh number, so a message never carries a code already
//! spent. Plain codes and each custom action have their own purpose (their own secret and
//! their own rows), so one never stands for, spends or refuses another.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::db::Db;
use super::verdicts::Acceptance;

/// How long a sent code stays valid (Authy: 10 minutes).
pub const VALIDITY_SECONDS: i64 = 600;
/// Codes of one purpose kept valid at once; an older one is dropped by a newer send.
const KEPT_PER_PURPOSE: i64 = 5;

/// `sms` for plain codes (SMS and voice), `action:<sha256 of the action>` for custom actions.
pub fn purpose(action: Option<&str>) -> String {
    match action {
        None => "sms".to_owned(),
        Some(action) => {
            let digest = Sha256::digest(action.as_bytes());
            format!("action:{}", data_encoding::HEXLOWER.encode(&digest))
        }
    }
}

/// A sent code that may still be entered.
pub struct SentCode {
    pub id: i64,
    pub step: u64,
    pub used: bool,
}

/// A code to send: its number, and whether it was reserved by this send (a failed delivery
/// forgets only a fresh code: a re-sent one was delivered before).
pub struct Reserved {
    pub step: u64,
    pub fresh: bool,
}

/// A code sent less than this long ago and not used yet is sent again (Authy re-sends the
/// same code within a time step); a used one never is.
const RESEND_SECONDS: i64 = 30;

/// The code to send for `purpose`: the last one again while it is unused and younger than
/// [`RESEND_SECONDS`], else a fresh one (see [`record`]).
pub async fn reserve(
    db: &Db,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> Result<Reserved, sqlx::Error> {
    let recent: Option<i64> = sqlx::query(
        "SELECT step FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND used = 0 AND expires_at > $3
         AND step = (SELECT MAX(step) FROM sent_codes WHERE user_id = $1 AND purpose = $2)",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(now + VALIDITY_SECONDS - RESEND_SECONDS)
    .fetch_optional(&db.writer)
    .await?
    .map(|r| r.get(0));
    if let Some(step) = recent {
        return Ok(Reserved {
            step: step.max(0) as u64,
            fresh: false,
        });
    }
    let step = record(db, user_id, purpose, now).await?;
    Ok(Reserved { step, fresh: true })
}

/// Reserves the number of a new code for `purpose` (one more than any sent before, and at
/// least the current time step) and forgets codes that expired or fell out of the kept set.
async fn record(db: &Db, user_id: i64, purpose: &str, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sent_codes WHERE user_id = $1 AND expires_at <= $2")
        .bind(user_id)
        .bind(now)
        .execute(&db.writer)
        .await?;
    // Two concurrent sends may pick the same number; the unique index lets only one in.
    let mut attempt = 0;
    loop {
        let last: Option<i64> =
            sqlx::query("SELECT MAX(step) FROM sent_codes WHERE user_id = $1 AND purpose = $2")
                .bind(user_id)
                .bind(purpose)
                .fetch_one(&db.writer)
                .await?
                .get(0);
        let step = last.map_or(0, |s| s + 1).max(now / 30);
        let inserted = sqlx::query("INSERT INTO sent_codes (user_id, purpose, step, expires_at, used) VALUES ($1, $2, $3, $4, 0)")
            .bind(user_id)
            .bind(purpose)
            .bind(step)
            .bind(now + VALIDITY_SECONDS)
            .execute(&db.writer)
            .await;
        match inserted {
            Ok(_) => {
                sqlx::query(
                    "DELETE FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND step <= $3",
                )
                .bind(user_id)
                .bind(purpose)
                .bind(step - KEPT_PER_PURPOSE)
                .execute(&db.writer)
                .await?;
                return Ok(step as u64);
            }
            Err(e) if attempt < 3 && is_unique_violation(&e) => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Removes a reserved code whose message could not be delivered.
pub async fn forget(db: &Db, user_id: i64, purpose: &str, step: u64) {
    let _ = sqlx::query("DELETE FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND step = $3")
        .bind(user_id)
        .bind(purpose)
        .bind(step as i64)
        .execute(&db.writer)
        .await;
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The codes of `purpose` sent to the user that are still valid, used or not.
pub async fn valid(
    db: &Db,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> Result<Vec<SentCode>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, step, used FROM sent_codes WHERE user_id = $1 AND purpose = $2 AND expires_at > $3 ORDER BY step DESC")
        .bind(user_id)
        .bind(purpose)
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| SentCode {
            id: r.get(0),
            step: r.get::<i64, _>(1).max(0) as u64,
            used: r.get::<i64, _>(2) != 0,
        })
        .collect())
}

/// Accepts a matched sent code: in one transaction, the user must not be locked (checked
/// under the user row's lock) and the code must still be unused; success clears the count.
pub async fn redeem(
    db: &Db,
    user_id: i64,
    code_id: i64,
    now: i64,
) -> Result<Acceptance, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let unlocked = sqlx::query("UPDATE users SET failed_attempts = 0, failures_reset_at = 0, confirmed = 1 WHERE id = $1 AND locked_until <= $2")
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if unlocked.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(Acceptance::Locked);
    }
    let taken = sqlx::query(
        "UPDATE sent_codes SET used = 1 WHERE id = $1 AND used = 0 AND expires_at > $2",
    )
    .bind(code_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(Acceptance::Replayed);
    }
    tx.commit().await?;
    Ok(Acceptance::Accepted)
}
