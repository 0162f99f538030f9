//! The verdict of every verification attempt, decided by one atomic, conditional write and
//! group-committed with the concurrent ones.
//!
//! A code is compared in memory first; what the client is told is decided only by the write
//! that records the outcome, and that write checks the user's lock-out state at the moment
//! it runs (on PostgreSQL under the row's lock, re-checked after a concurrent update; on
//! SQLite under the single writer). So however many requests arrive together, on however
//! many instances, at most `max_failures` wrong guesses per lock-out window are answered
//! "invalid" and every other attempt is answered "locked" without revealing whether it was
//! right. An accepted code must also be newer than the last accepted step of its kind, so a
//! code is accepted once; a replayed valid code is refused but is not counted as a guess.
//!
//! Done one by one, SQLite's single writer caps verification at a few thousand per second;
//! here the pending writes of concurrent requests are combined into one
//! `UPDATE … FROM (VALUES …) … RETURNING` per kind of write.

use std::collections::HashSet;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;

/// Which replay column an accepted code advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepColumn {
    App,
    Authenticator,
}

impl StepColumn {
    fn name(self) -> &'static str {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Accept(StepColumn),
    Fail,
}

struct Pending {
    user_id: i64,
    kind: Kind,
    step: i64,
    now: i64,
    reply: oneshot::Sender<Result<Outcome, String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Written,
    Locked,
    Replayed,
}

#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Pending>,
}

const MAX_BATCH: usize = 256;

impl Batcher {
    pub fn start(db: Db, policy: Policy) -> Batcher {
        let (queue, receiver) = mpsc::channel(4096);
        tokio::spawn(run(db, policy, receiver));
        Batcher { queue }
    }

    async fn submit(
        &self,
        user_id: i64,
        kind: Kind,
        step: i64,
        now: i64,
    ) -> Result<Outcome, String> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            user_id,
            kind,
            step,
            now,
            reply,
        };
        self.queue
            .send(pending)
            .await
            .map_err(|_| "the write queue stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the write queue stopped".to_string())?
    }

    /// Accepts a matched code at `step` if the user is not locked and the step is newer than
    /// the last one accepted in `column`; a success clears the failure count.
    pub async fn accept(
        &self,
        user_id: i64,
        column: StepColumn,
        step: i64,
        now: i64,
    ) -> Result<Acceptance, String> {
        Ok(
            match self
                .submit(user_id, Kind::Accept(column), step, now)
                .await?
            {
                Outcome::Written => Acceptance::Accepted,
                Outcome::Replayed => Acceptance::Replayed,
                Outcome::Locked => Acceptance::Locked,
            },
        )
    }

    /// Counts a wrong guess unless the user is already locked.
    pub async fn fail(&self, user_id: i64, now: i64) -> Result<Failure, String> {
        Ok(match self.submit(user_id, Kind::Fail, 0, now).await? {
            Outcome::Written => Failure::Counted,
            _ => Failure::Locked,
        })
    }
}

async fn run(db: Db, policy: Policy, mut receiver: mpsc::Receiver<Pending>) {
    let mut deferred: Vec<Pending> = Vec::new();
    loop {
        let mut batch: Vec<Pending> = std::mem::take(&mut deferred);
        if batch.is_empty() {
            match receiver.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // One write per user per batch: a second one waits for the next batch, where it
        // sees the first one's effect (a replay finds the step taken, a guess the count).
        let mut seen = HashSet::new();
        let (mut now, later): (Vec<Pending>, Vec<Pending>) =
            batch.into_iter().partition(|p| seen.insert(p.user_id));
        deferred = later;
        for kind in [
            Kind::Accept(StepColumn::App),
            Kind::Accept(StepColumn::Authenticator),
            Kind::Fail,
        ] {
            let (group, rest): (Vec<Pending>, Vec<Pending>) =
                now.into_iter().partition(|p| p.kind == kind);
            now = rest;
            if group.is_empty() {
                continue;
            }
            let result = apply(&db, policy, kind, &group).await;
            for pending in group {
                let outcome = match &result {
                    Ok(outcomes) => Ok(outcomes(pending.user_id)),
                    Err(e) => Err(e.clone()),
                };
                // The request may have gone away; nothing to do then.
                let _ = pending.reply.send(outcome);
            }
        }
    }
}

/// Runs one group's write; returns how each user's attempt came out.
async fn apply(
    db: &Db,
    policy: Policy,
    kind: Kind,
    group: &[Pending],
) -> Result<impl Fn(i64) -> Outcome + use<>, String> {
    // One clock per batch: the latest of the requests' (they differ by microseconds).
    let now = group.iter().map(|p| p.now).max().unwrap_or(0);
    let written = match kind {
        Kind::Accept(column) => accept_steps(db, column, now, group).await,
        Kind::Fail => count_failures(db, policy, now, group).await,
    }
    .map_err(|e| e.to_string())?;
    let not_written: Vec<i64> = group
        .iter()
        .map(|p| p.user_id)
        .filter(|id| !written.contains(id))
        .collect();
    let locked = locked_users(db, now, &not_written)
        .await
        .map_err(|e| e.to_string())?;
    Ok(move |user_id: i64| {
        if written.contains(&user_id) {
            Outcome::Written
        } else if locked.contains(&user_id) {
            Outcome::Locked
        } else {
            Outcome::Replayed
        }
    })
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

async fn accept_steps(
    db: &Db,
    column: StepColumn,
    now: i64,
    group: &[Pending],
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
        values(2, group.len(), 2)
    );
    let mut query = sqlx::query(&sql).bind(now);
    for pending in group {
        query = query.bind(pending.user_id).bind(pending.step);
    }
    let rows = query.fetch_all(&db.writer).await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

async fn count_failures(
    db: &Db,
    policy: Policy,
    now: i64,
    group: &[Pending],
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
        values(5, group.len(), 1)
    );
    let mut query = sqlx::query(&sql)
        .bind(now)
        .bind(policy.max_failures)
        .bind(policy.window)
        .bind(policy.lockout);
    for pending in group {
        query = query.bind(pending.user_id);
    }
    let rows = query.fetch_all(&db.writer).await?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

/// Which of `users` are locked out at `now` (read on the writer, after the write).
async fn locked_users(db: &Db, now: i64, users: &[i64]) -> Result<HashSet<i64>, sqlx::Error> {
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
