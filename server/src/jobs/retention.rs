//! Keeps the operators' logs within their retention (`log_retention_days`), drops stale
//! per-address sign-in counts (`store::retention`) and ended console sessions.

use std::time::Duration;

use crate::state::AppState;
use crate::store::retention;

pub const PERIOD: Duration = Duration::from_secs(60);

/// Statements a round may run per kind: a backlog (a first start on an old database) is
/// worked off over several rounds rather than in one long hold of the writer.
const MAX_BATCHES: usize = 20;

pub async fn run_once(state: AppState) -> Result<(), sqlx::Error> {
    let now = crate::clock::now();
    let before = now - state.settings.log_retention_days * 86_400;
    for _ in 0..MAX_BATCHES {
        if retention::prune_logs(&state.db, before).await? == 0 {
            break;
        }
    }
    let window_start = now - crate::service::operators::ATTEMPT_WINDOW_SECONDS;
    retention::prune_address_attempts(&state.db, window_start).await?;
    if let Err(e) = crate::service::console_sessions::sweep(&state).await {
        tracing::warn!(error = %e, "sweeping ended console sessions");
    }
    Ok(())
}
