//! Device registration as the bank sees it (create a registration, list and revoke devices)
//! and as the phone does it (`POST /device/v1/register`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::http::extract::Call;
use crate::http::qr::qr_data_url;
use crate::service::registration;
use crate::state::AppState;

pub async fn create_registration(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(registration::create(&state, &call.app, &id, qr_data_url).await)
}

pub async fn list(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(registration::list(&state, &call.app, &id).await)
}

pub async fn revoke(
    State(state): State<AppState>,
    Path((_, id, device_id)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    call.answer(registration::revoke(&state, &call.app, &id, &device_id).await)
}

/// `POST /device/v1/register`.
pub async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    match registration::register(&state, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(refused) => refused.into_response(),
    }
}
