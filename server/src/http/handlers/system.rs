//! The server's own routes: health and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Healthy only if the database takes a write now: a full, read-only or stuck database is
/// reported (503) within the database deadline.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.health.probe(&state.db).await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
    }
}

pub async fn openapi() -> Response {
    Json(crate::http::openapi::document()).into_response()
}
