//! Approval request expiry by the server clock. Its own job, so that callbacks that hang do not
//! keep requests "pending" past their time (status reads also expire on the spot).

use std::time::Duration;

use crate::delivery::callbacks;
use crate::error::ServerError;
use crate::state::AppState;

pub const PERIOD: Duration = Duration::from_millis(500);

/// Batches per round at most, so that a round (and a stop) stays short; the next round goes on.
const MAX_BATCHES_PER_ROUND: usize = 20;

/// Expires what is due, batch after batch while batches come back full.
pub async fn run_once(state: AppState) -> Result<(), ServerError> {
    for _ in 0..MAX_BATCHES_PER_ROUND {
        let expired =
            callbacks::expire_batch(&state.db, crate::service::audit::chain_signer(&state)).await?;
        if !callbacks::batch_was_full(expired) {
            break;
        }
    }
    Ok(())
}
