//! Statistics: events counted per app, buffered in memory (`jobs::stats` flushes the buffer
//! every half second and explains what a crash can lose), and the app's statistics answer.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Counts an event for the app's statistics.
pub async fn record_event(state: &AppState, app_id: i64, kind: &'static str) {
    record(state, app_id, kind);
}

/// Writes the buffered counts now (the statistics route calls it so that its answer includes
/// this instance's latest counts); failed counts stay buffered.
pub async fn flush_events(state: &AppState) -> Result<(), sqlx::Error> {
    flush(state).await
}

type Key = (i64, &'static str);

/// Counts one event of `kind` for `app_id`.
pub fn record(state: &AppState, app_id: i64, kind: &'static str) {
    let mut pending = state
        .events
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *pending.entry((app_id, kind)).or_insert(0) += 1;
}

/// Writes the buffered counts; on failure they go back into the buffer.
pub async fn flush(state: &AppState) -> Result<(), sqlx::Error> {
    let mut pending: Vec<(Key, i64)> = {
        let mut buffer = state
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *buffer).into_iter().collect()
    };
    if pending.is_empty() {
        return Ok(());
    }
    // The same order in every instance: row locks are taken in this order.
    pending.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    match write(state, &pending).await {
        Ok(()) => Ok(()),
        Err(e) => {
            put_back(state, pending);
            Err(e)
        }
    }
}

async fn write(state: &AppState, sorted: &[(Key, i64)]) -> Result<(), sqlx::Error> {
    crate::store::counters::add(&state.db, sorted).await
}

fn put_back(state: &AppState, counts: Vec<(Key, i64)>) {
    let mut buffer = state
        .events
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let buffer: &mut HashMap<Key, i64> = &mut buffer;
    for (key, count) in counts {
        *buffer.entry(key).or_insert(0) += count;
    }
}

/// The app's counts per event kind, this instance's latest included.
pub async fn app_stats_counts(
    state: &AppState,
    app_id: i64,
) -> Result<Vec<(String, i64)>, ApiError> {
    flush_events(state).await?;
    Ok(crate::store::counters::for_app(&state.db, app_id).await?)
}

/// The app's statistics, in Authy's shape.
pub async fn app_stats(state: &AppState, app_id: i64) -> Result<Value, ApiError> {
    let counts = app_stats_counts(state, app_id).await?;
    let count = |kind: &str| {
        counts
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n)
    };
    let users = crate::store::users::count(&state.db, app_id).await?;
    Ok(json!({
        "message": "Monthly statistics.",
        "count": 1,
        "total_users": users,
        "app_id": app_id,
        "stats": [{
            "sms_count": count("sms"),
            "calls_count": count("call"),
            "users_count": count("user_created"),
            "auths_count": count("verification"),
            "api_calls_count": counts.iter().map(|(_, n)| n).sum::<i64>(),
            "approval_requests_count": count("approval_request"),
        }],
        "success": true,
    }))
}
