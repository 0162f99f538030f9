//! Statistics: events counted per app (buffered; see `crate::jobs::stats` for when the
//! counts reach the database and what a crash can lose) and the app's statistics answer.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Counts an event for the app's statistics.
pub async fn record_event(state: &AppState, app_id: i64, kind: &'static str) {
    crate::jobs::stats::record(state, app_id, kind);
}

/// Writes the buffered counts now (the statistics route calls it so that its answer includes
/// this instance's latest counts); failed counts stay buffered.
pub async fn flush_events(state: &AppState) -> Result<(), sqlx::Error> {
    crate::jobs::stats::flush(state).await
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
