//! The console's list of a user's recent verifications: each decided outcome (never the
//! code) is buffered in memory and written in batches by the statistics job
//! (`jobs::stats`, every half second), so a verification costs no extra write of its own
//! (the load benchmark's rate depends on it). The buffer is bounded: past
//! [`MAX_PENDING`] outcomes a line is dropped (and counted in the log) rather than memory
//! growing; a crash loses at most the last half second of lines.

use crate::state::AppState;
use crate::store::verification_log::{self, LoggedVerification};

/// Most outcomes held between two flushes.
pub const MAX_PENDING: usize = 100_000;

/// Buffers one outcome.
pub fn record(state: &AppState, line: LoggedVerification) {
    let mut pending = state
        .verification_log
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if pending.len() < MAX_PENDING {
        pending.push(line);
    } else {
        tracing::warn!("verification log buffer full; a line is dropped");
    }
}

/// Writes the buffered outcomes; on failure they are dropped (logged): the list is a
/// convenience for operators, not a record (the audit trail is).
pub async fn flush(state: &AppState) {
    let lines: Vec<LoggedVerification> = std::mem::take(
        &mut *state
            .verification_log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    if lines.is_empty() {
        return;
    }
    if let Err(e) = verification_log::insert_all(&state.db, &lines).await {
        tracing::warn!(error = %e, lost = lines.len(), "could not write the verification log");
    }
}
