//! Group commit for accepted codes. Each accepted verification must record its time step in
//! one atomic, conditional update (that is what refuses replays). Done one by one, SQLite's
//! single writer caps verification at a few thousand per second; here the pending updates of
//! concurrent requests are combined into one `UPDATE … FROM (VALUES …) … RETURNING` per kind
//! of code, so each request still learns whether its own update took effect.

use std::collections::HashSet;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;

/// Which replay column an accepted code advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepColumn {
    App,
    Sms,
    Authenticator,
}

impl StepColumn {
    fn name(self) -> &'static str {
        match self {
            StepColumn::App => "last_step_app",
            StepColumn::Sms => "last_step_sms",
            StepColumn::Authenticator => "last_step_authenticator",
        }
    }
}

pub struct Accept {
    pub user_id: i64,
    pub column: StepColumn,
    pub step: i64,
    reply: oneshot::Sender<Result<bool, String>>,
}

#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Accept>,
}

const MAX_BATCH: usize = 256;

impl Batcher {
    pub fn start(db: Db) -> Batcher {
        let (queue, receiver) = mpsc::channel(4096);
        tokio::spawn(run(db, receiver));
        Batcher { queue }
    }

    /// Records `step` as used if it is newer than the stored one; true when this call did it.
    pub async fn accept(
        &self,
        user_id: i64,
        column: StepColumn,
        step: i64,
    ) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Accept {
                user_id,
                column,
                step,
                reply,
            })
            .await
            .map_err(|_| "the write queue stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the write queue stopped".to_string())?
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<Accept>) {
    let mut deferred: Vec<Accept> = Vec::new();
    loop {
        let mut batch: Vec<Accept> = std::mem::take(&mut deferred);
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
        // One update per user and column per batch: a second one waits for the next batch
        // (where, being a replay, it will find the step taken).
        let mut seen = HashSet::new();
        let (now, later): (Vec<Accept>, Vec<Accept>) = batch
            .into_iter()
            .partition(|a| seen.insert((a.user_id, a.column)));
        deferred = later;
        let mut now = now;
        for column in [StepColumn::App, StepColumn::Sms, StepColumn::Authenticator] {
            let (group, rest): (Vec<Accept>, Vec<Accept>) =
                now.into_iter().partition(|a| a.column == column);
            now = rest;
            if group.is_empty() {
                continue;
            }
            let result = apply(&db, column, &group).await;
            for accept in group {
                let outcome = match &result {
                    Ok(updated) => Ok(updated.contains(&accept.user_id)),
                    Err(e) => Err(e.clone()),
                };
                // The request may have gone away; nothing to do then.
                let _ = accept.reply.send(outcome);
            }
        }
    }
}

async fn apply(db: &Db, column: StepColumn, group: &[Accept]) -> Result<HashSet<i64>, String> {
    let name = column.name();
    let mut values = String::new();
    for (i, _) in group.iter().enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        values.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
    }
    let confirm_authenticator = if column == StepColumn::Authenticator {
        ", authenticator_confirmed = 1"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE users SET {name} = v.column2, failed_attempts = 0, confirmed = 1{confirm_authenticator}
         FROM (VALUES {values}) AS v WHERE users.id = v.column1 AND users.{name} < v.column2 RETURNING users.id"
    );
    let mut query = sqlx::query(&sql);
    for accept in group {
        query = query.bind(accept.user_id).bind(accept.step);
    }
    let rows = query
        .fetch_all(&db.writer)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}
