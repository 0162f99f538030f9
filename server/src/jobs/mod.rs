//! Background work, one task per job: approval expiry, callback delivery, device-nonce pruning,
//! log retention, statistics flushing and the database health probe (`store::health`). They used to share one loop, so a callback endpoint that hung held
//! up expiry, every other app's callbacks and shutdown; as separate tasks none can starve
//! another, and each stops within a bounded time.
//!
//! Shutdown has two steps, see [`Jobs::begin_shutdown`] and [`Jobs::finish`]: background work
//! stops at once (while the HTTP server drains its requests), the last statistics are written
//! only after those requests finished, so that their counts are in.

pub mod callbacks;
pub mod expiry;
pub mod nonces;
pub mod retention;
pub mod stats;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Longest the background jobs take to stop after [`Jobs::begin_shutdown`]: the delivery job's
/// grace and hand-back, plus a second. Periodic jobs (expiry, pruning) still busy then are
/// aborted: an aborted round rolls back and the next start does it again.
pub const BACKGROUND_BOUND: Duration = callbacks::GRACE
    .saturating_add(callbacks::HAND_BACK_DEADLINE)
    .saturating_add(Duration::from_secs(1));

/// The running jobs of one server instance.
pub struct Jobs {
    stop_background: watch::Sender<bool>,
    /// When [`Jobs::begin_shutdown`] was first called.
    stopping_since: std::sync::OnceLock<tokio::time::Instant>,
    stop_stats: watch::Sender<bool>,
    delivery: JoinHandle<()>,
    periodic: Vec<JoinHandle<()>>,
    stats: JoinHandle<()>,
}

impl Jobs {
    pub fn start(state: &AppState) -> Jobs {
        let (stop_background, background) = watch::channel(false);
        let (stop_stats, stats_stop) = watch::channel(false);
        let expiry_state = state.clone();
        let nonce_state = state.clone();
        let retention_state = state.clone();
        let health_state = state.clone();
        let periodic = vec![
            // The health probe logs its own changes (up, down), not every failed round.
            tokio::spawn(every(
                "probing the database",
                crate::store::health::PROBE_INTERVAL,
                background.clone(),
                move || {
                    let state = health_state.clone();
                    async move {
                        let _ = state.health.probe(&state.db).await;
                        Ok::<(), std::convert::Infallible>(())
                    }
                },
            )),
            tokio::spawn(every(
                "expiring approval requests",
                expiry::PERIOD,
                background.clone(),
                move || expiry::run_once(expiry_state.clone()),
            )),
            tokio::spawn(every(
                "pruning device nonces",
                nonces::PERIOD,
                background.clone(),
                move || nonces::run_once(nonce_state.clone()),
            )),
            tokio::spawn(every(
                "pruning the operators' logs",
                retention::PERIOD,
                background.clone(),
                move || retention::run_once(retention_state.clone()),
            )),
        ];
        Jobs {
            delivery: tokio::spawn(callbacks::run(state.clone(), background)),
            stats: tokio::spawn(stats::run(state.clone(), stats_stop)),
            stop_background,
            stopping_since: std::sync::OnceLock::new(),
            stop_stats,
            periodic,
        }
    }

    /// Stops taking new work: no new callback leases, expiry or pruning rounds. Deliveries in
    /// flight get [`callbacks::GRACE`], then hand their leases back.
    pub fn begin_shutdown(&self) {
        self.stopping_since.get_or_init(tokio::time::Instant::now);
        let _ = self.stop_background.send(true);
    }

    /// Waits for the background jobs (at most [`BACKGROUND_BOUND`] after
    /// [`Jobs::begin_shutdown`]), then writes the buffered statistics (at most
    /// [`stats::FINAL_FLUSH_DEADLINE`]). Call it after the HTTP server finished its requests.
    pub async fn finish(self) {
        self.begin_shutdown();
        let since = self
            .stopping_since
            .get()
            .copied()
            .unwrap_or_else(tokio::time::Instant::now);
        let deadline = since + BACKGROUND_BOUND;
        for mut job in self.periodic.into_iter().chain([self.delivery]) {
            if tokio::time::timeout_at(deadline, &mut job).await.is_err() {
                tracing::warn!("a background job did not stop in time; aborted");
                job.abort();
            }
        }
        let _ = self.stop_stats.send(true);
        let mut stats = self.stats;
        if tokio::time::timeout(stats::FINAL_FLUSH_DEADLINE, &mut stats)
            .await
            .is_err()
        {
            tracing::error!("the final statistics flush did not finish in time");
            stats.abort();
        }
    }
}

/// True once a stop was asked for, or its sender is gone (nobody can ask any more).
pub(crate) fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Runs `round` every `period` until `stop`; a failed round is logged and tried again next
/// period.
async fn every<F, Fut, E>(
    name: &'static str,
    period: Duration,
    mut stop: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    while !stopping(&stop) {
        if let Err(e) = round().await {
            tracing::error!(error = %e, job = name, "background job failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => {}
        }
    }
}
