//! Pruning of expired device request nonces (replay marks past their validity).

use std::time::Duration;

use crate::state::AppState;

/// Expired nonces are only dead weight (a request that old is refused by its timestamp), so
/// pruning need not be frequent.
pub const PERIOD: Duration = Duration::from_secs(10);

pub async fn run_once(state: AppState) -> Result<(), sqlx::Error> {
    crate::store::nonces::prune(&state.db, crate::clock::now()).await
}
