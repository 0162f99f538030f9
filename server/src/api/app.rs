//! The calling app's details and statistics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use sqlx::Row;

use crate::state::{AppState, Call};

pub async fn details(call: Call) -> Response {
    let app = &call.app;
    call.ok(json!({
        "app": {
            "name": app.name,
            "plan": "self-hosted",
            "sms_enabled": true,
            "phone_calls_enabled": true,
            "app_id": app.id,
            "onetouch_enabled": true,
            "token_length": app.token_length,
            "onetouch_callback_url": app.callback_url,
            "onetouch_callback_method": app.callback_method,
        },
        "message": "Application information.",
        "success": true,
    }))
}

pub async fn stats(State(state): State<AppState>, call: Call) -> Response {
    let result = async {
        let counts = super::tokens::app_stats_counts(&state, call.app.id).await?;
        let count = |kind: &str| {
            counts
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n)
        };
        let users: i64 =
            sqlx::query("SELECT COUNT(*) FROM users WHERE app_id = $1 AND deleted = $2")
                .bind(call.app.id)
                .bind(0i64)
                .fetch_one(&state.db.pool)
                .await?
                .get(0);
        Ok((
            StatusCode::OK,
            json!({
                "message": "Monthly statistics.",
                "count": 1,
                "total_users": users,
                "app_id": call.app.id,
                "stats": [{
                    "sms_count": count("sms"),
                    "calls_count": count("call"),
                    "users_count": count("user_created"),
                    "auths_count": count("verification"),
                    "api_calls_count": counts.iter().map(|(_, n)| n).sum::<i64>(),
                    "approval_requests_count": count("approval_request"),
                }],
                "success": true,
            }),
        ))
    }
    .await;
    call.answer(result)
}
