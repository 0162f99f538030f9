//! Callback delivery: concurrent, fair between apps, and correct with several instances on one
//! database.
//!
//! - Due rows are leased only as slots free up, at most one app's free slots per statement,
//!   on a clock reading taken just before (`lease`), and sent at once. A lease lasts [`LEASE`],
//!   longer than an attempt can take (checked at compile time), so it cannot run out while its
//!   holder is still working unless the holder died or stalled; only the holder's token can
//!   record the outcome.
//! - At most [`PER_APP_IN_FLIGHT`] attempts per app and [`TOTAL_IN_FLIGHT`] in all run at once
//!   in one instance, so one app's hanging endpoint holds its own slots and no one else's.
//! - A finished attempt frees its slot at once and the queue is read again; an idle queue is
//!   polled every [`POLL`].
//! - On shutdown no new lease is taken; attempts in flight get [`GRACE`], then those still
//!   waiting for their endpoint hand their lease back, within [`HAND_BACK_DEADLINE`].

mod attempt;
mod send;

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{Id, JoinError, JoinSet};

use super::stopping;
use crate::state::AppState;
use crate::store::callback_queue::{self, LeaseTerms};

/// Failed attempts after which a callback is abandoned.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long an endpoint has to answer.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long recording an attempt's outcome may take, retries included.
pub const OUTCOME_DEADLINE: Duration = Duration::from_secs(5);
/// Bound around the whole HTTP exchange beyond reqwest's own timeout.
pub const SEND_MARGIN: Duration = Duration::from_secs(1);
/// A lease: comfortably longer than one attempt ([`HTTP_TIMEOUT`] + [`SEND_MARGIN`] +
/// [`OUTCOME_DEADLINE`]).
pub const LEASE: Duration = Duration::from_secs(30);
const TERMS: LeaseTerms = LeaseTerms {
    seconds: LEASE.as_secs() as i64,
    max_attempts: MAX_ATTEMPTS,
};
const _: () = assert!(
    LEASE.as_secs() > HTTP_TIMEOUT.as_secs() + SEND_MARGIN.as_secs() + OUTCOME_DEADLINE.as_secs(),
    "a lease must outlast an attempt"
);
/// Attempts in flight per app in one instance.
pub const PER_APP_IN_FLIGHT: usize = 16;
/// Attempts in flight in one instance.
pub const TOTAL_IN_FLIGHT: usize = 128;
/// How often an idle instance looks for due callbacks.
pub const POLL: Duration = Duration::from_millis(200);
/// At shutdown, how long attempts in flight may still finish.
pub const GRACE: Duration = Duration::from_secs(5);
/// At shutdown, how long unfinished attempts have to hand their leases back.
pub const HAND_BACK_DEADLINE: Duration = Duration::from_secs(2);

/// The attempts in flight and the apps they belong to.
#[derive(Default)]
struct Flights {
    tasks: JoinSet<()>,
    app_of: HashMap<Id, i64>,
    per_app: HashMap<i64, usize>,
    /// Rotates the order in which apps are served, so none is always last.
    turn: usize,
}

impl Flights {
    fn free(&self) -> usize {
        TOTAL_IN_FLIGHT.saturating_sub(self.tasks.len())
    }

    fn room_for(&self, app_id: i64) -> usize {
        let busy = self.per_app.get(&app_id).copied().unwrap_or(0);
        PER_APP_IN_FLIGHT.saturating_sub(busy).min(self.free())
    }

    fn launch(
        &mut self,
        state: &AppState,
        callback: crate::store::callback_queue::Leased,
        give_up: &watch::Receiver<bool>,
    ) {
        let app_id = callback.app_id;
        let handle = self
            .tasks
            .spawn(attempt::run(state.clone(), callback, give_up.clone()));
        self.app_of.insert(handle.id(), app_id);
        *self.per_app.entry(app_id).or_insert(0) += 1;
    }

    fn landed(&mut self, done: Result<(Id, ()), JoinError>) {
        let id = match done {
            Ok((id, ())) => id,
            Err(e) => {
                if e.is_panic() {
                    tracing::error!("a callback attempt panicked");
                }
                e.id()
            }
        };
        if let Some(app_id) = self.app_of.remove(&id)
            && let Some(busy) = self.per_app.get_mut(&app_id)
        {
            *busy = busy.saturating_sub(1);
            if *busy == 0 {
                self.per_app.remove(&app_id);
            }
        }
    }

    fn collect_landed(&mut self) {
        while let Some(done) = self.tasks.try_join_next_with_id() {
            self.landed(done);
        }
    }
}

/// Leases as many due callbacks as there are free slots, app by app, and starts them.
async fn fill(
    state: &AppState,
    flights: &mut Flights,
    give_up: &watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    if flights.free() == 0 {
        return Ok(());
    }
    let mut apps = callback_queue::due_apps(&state.db, MAX_ATTEMPTS).await?;
    if apps.is_empty() {
        return Ok(());
    }
    let turn = flights.turn % apps.len();
    apps.rotate_left(turn);
    flights.turn = flights.turn.wrapping_add(1);
    for app_id in apps {
        if flights.free() == 0 {
            break;
        }
        let room = flights.room_for(app_id);
        if room == 0 {
            continue;
        }
        for callback in callback_queue::lease(&state.db, TERMS, app_id, room).await? {
            flights.launch(state, callback, give_up);
        }
    }
    Ok(())
}

/// The delivery job: runs until `stop`, then winds down within [`GRACE`] +
/// [`HAND_BACK_DEADLINE`].
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let (give_up, giving_up) = watch::channel(false);
    let mut flights = Flights::default();
    while !stopping(&stop) {
        if let Err(e) = fill(&state, &mut flights, &giving_up).await {
            tracing::error!(error = %e, "leasing callbacks");
        }
        tokio::select! {
            Some(done) = flights.tasks.join_next_with_id(), if !flights.tasks.is_empty() => {
                flights.landed(done);
            }
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
        flights.collect_landed();
    }
    wind_down(flights, give_up).await;
}

async fn wind_down(mut flights: Flights, give_up: watch::Sender<bool>) {
    let grace = tokio::time::sleep(GRACE);
    tokio::pin!(grace);
    while !flights.tasks.is_empty() {
        tokio::select! {
            Some(done) = flights.tasks.join_next_with_id() => flights.landed(done),
            _ = &mut grace => break,
        }
    }
    if flights.tasks.is_empty() {
        return;
    }
    tracing::info!(
        in_flight = flights.tasks.len(),
        "handing unfinished callbacks back"
    );
    let _ = give_up.send(true);
    let handed_back = async {
        while let Some(done) = flights.tasks.join_next_with_id().await {
            flights.landed(done);
        }
    };
    if tokio::time::timeout(HAND_BACK_DEADLINE, handed_back)
        .await
        .is_err()
    {
        tracing::warn!("callback attempts still busy at shutdown; their leases run out instead");
    }
}

/// Callbacks still to be delivered (abandoned ones not counted): `/metrics`' queue depth.
pub async fn queue_depth(state: &AppState) -> Result<i64, sqlx::Error> {
    callback_queue::depth(&state.db, MAX_ATTEMPTS).await
}
