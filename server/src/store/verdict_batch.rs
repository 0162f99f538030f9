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

use tokio::sync::{mpsc, oneshot};

use super::db::Db;
use super::verdicts::{accept_steps, count_failures, locked_users};

/// Which replay column an accepted code advances.
pub use super::verdicts::{Acceptance, Failure, Policy, StepColumn};

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
        Kind::Accept(column) => {
            let steps: Vec<(i64, i64)> = group.iter().map(|p| (p.user_id, p.step)).collect();
            accept_steps(db, column, now, &steps).await
        }
        Kind::Fail => {
            let users: Vec<i64> = group.iter().map(|p| p.user_id).collect();
            count_failures(db, policy, now, &users).await
        }
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
