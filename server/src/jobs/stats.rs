//! Statistics counts: buffered in memory per (app, event kind) so that a verification costs
//! one write, not two, and added to the `counters` table every [`PERIOD`].
//!
//! Several instances flush into the same rows, so a flush must neither deadlock with another
//! nor lose a count:
//! - each key is one `INSERT … ON CONFLICT DO UPDATE SET count = count + n` (no
//!   read-then-insert race on a new key), in sorted key order inside one transaction, so two
//!   flushes lock rows in the same order and cannot deadlock;
//! - a flush that fails puts its counts back into the buffer for the next one.
//!
//! What a crash can lose: the counts buffered since the last flush (at most [`PERIOD`]). On
//! shutdown the last flush runs after the HTTP server finished its requests. The console's
//! verification log is written by the same loop (`service::verification_log::flush`).

use std::time::Duration;

use tokio::sync::watch;

use crate::service::stats::flush;
use crate::state::AppState;

pub const PERIOD: Duration = Duration::from_millis(500);

/// Longest the shutdown flush may take, retries included.
pub const FINAL_FLUSH_DEADLINE: Duration = Duration::from_secs(3);

/// Flushes every [`PERIOD`] until `stop`, then once more (retrying within
/// [`FINAL_FLUSH_DEADLINE`]).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    while !super::stopping(&stop) {
        if let Err(e) = flush(&state).await {
            tracing::error!(error = %e, "writing statistics (kept for the next flush)");
        }
        crate::service::verification_log::flush(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(PERIOD) => {}
            _ = stop.changed() => {}
        }
    }
    crate::service::verification_log::flush(&state).await;
    let started = tokio::time::Instant::now();
    loop {
        match flush(&state).await {
            Ok(()) => return,
            Err(e) if started.elapsed() + PERIOD < FINAL_FLUSH_DEADLINE => {
                tracing::warn!(error = %e, "final statistics flush failed; retrying");
                tokio::time::sleep(PERIOD).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "final statistics flush failed; counts lost");
                return;
            }
        }
    }
}
