//! The verification verdicts' writes (see `verdict_batch` for why they are batched):
//! each kind of write for a whole batch of users is one `UPDATE … FROM (VALUES …) …
//! RETURNING`, conditional on the user's lock-out state at the moment it runs.

use std::collections::HashSet;

use sqlx::Row;

use super::db::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepColumn {
    App,
    Authenticator,
}

impl StepColumn {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StepColumn::App => "last_step_app",
            StepColumn::Authenticator => "last_step_authenticator",
        }
    }
}

/// The lock-out rule: at most `max_failures` wrong guesses within `window` seconds of the
/// first; the one that reaches the limit locks the user for `lockout` seconds. When the
/// window (and any lock) has passed, counting starts again.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_failures: i64,
    pub window: i64,
    pub lockout: i64,
}

/// What became of an attempt with a code that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    Accepted,
    /// The code was valid but its step was already used (a replay or a duplicate submission).
    Replayed,
    /// The user was locked out when the write ran; nothing was checked or changed.
    Locked,
}

/// What became of a wrong guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Counted,
    Locked,
}

/// `(${first}, ${first+1}), …` for `rows` rows of `width` parameters each.
fn values(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (0..width)
                .map(|col| format!("${}", first + row * width + col))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn accept_steps(
    db: &Db,
    column: StepColumn,
    now: i64,
    steps: &[(i64, i64)],
) -> Result<HashSet<i64>, sqlx::Error> {
    let name = column.name();
    let confirm_authenticator = if column == StepColumn::Authenticator {
        ", authenticator_confirmed = 1"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE users SET {name} = v.column2, failed_attempts = 0, failures_reset_at = 0, confirmed = 1{confirm_authenticator}
         FROM (VALUES {}) AS v
         WHERE users.id = v.column1 AND users.{name} < v.column2 AND users.locked_until <= $1
         RETURNING users.id",
        values(2, steps.len(), 2)
    );
    let mut query = sqlx::query(&sql).bind(now);
    for (user_id, step) in steps {
        query = query.bind(*user_id).bind(*step);
    }
    let rows = query.fetch_all(&db.writer).await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

pub async fn count_failures(
    db: &Db,
    policy: Policy,
    now: i64,
    users: &[i64],
) -> Result<HashSet<i64>, sqlx::Error> {
    // Every SET expression reads the row as it was before this update.
    let sql = format!(
        "UPDATE users SET
            failed_attempts = CASE WHEN users.failures_reset_at <= $1 THEN 1 ELSE users.failed_attempts + 1 END,
            failures_reset_at = CASE WHEN users.failures_reset_at <= $1 THEN $1 + $3 ELSE users.failures_reset_at END,
            locked_until = CASE
                WHEN (CASE WHEN users.failures_reset_at <= $1 THEN 1 ELSE users.failed_attempts + 1 END) >= $2
                THEN $1 + $4 ELSE users.locked_until END
         FROM (VALUES {}) AS v
         WHERE users.id = v.column1 AND users.locked_until <= $1
         RETURNING users.id",
        values(5, users.len(), 1)
    );
    let mut query = sqlx::query(&sql)
        .bind(now)
        .bind(policy.max_failures)
        .bind(policy.window)
        .bind(policy.lockout);
    for user_id in users {
        query = query.bind(*user_id);
    }
    let rows = query.fetch_all(&db.writer).await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

/// Which of `users` are locked out at `now` (read on the writer, after the write).
pub async fn locked_users(db: &Db, now: i64, users: &[i64]) -> Result<HashSet<i64>, sqlx::Error> {
    if users.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT users.id FROM users JOIN (VALUES {}) AS v ON users.id = v.column1 WHERE users.locked_until > $1",
        values(2, users.len(), 1)
    );
    let mut query = sqlx::query(&sql).bind(now);
    for id in users {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&db.writer).await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}
