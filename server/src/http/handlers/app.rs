//! The calling app's details and statistics.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use crate::http::extract::Call;
use crate::state::AppState;

pub async fn details(call: Call) -> Response {
    let app = &call.app;
    let body = json!({
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
    });
    call.answer(Ok(body))
}

pub async fn stats(State(state): State<AppState>, call: Call) -> Response {
    call.answer(crate::service::stats::app_stats(&state, call.app.id).await)
}
