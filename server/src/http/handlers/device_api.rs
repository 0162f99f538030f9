//! The device API after registration (docs/device-protocol.md): every request is a
//! [`DeviceRequest`], signed by the device key.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::DeviceError;
use crate::http::extract::DeviceRequest;
use crate::service::device_answers;
use crate::state::AppState;

fn reply(result: Result<Value, DeviceError>) -> Response {
    match result {
        Ok(answer) => Json(answer).into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /device/v1/approval_requests`: the user's pending requests as signed challenges.
pub async fn pending(State(state): State<AppState>, request: DeviceRequest) -> Response {
    reply(device_answers::pending(&state, &request.device).await)
}

/// `POST /device/v1/approval_requests/{uuid}/answer` with `{"answer": JWS}`.
pub async fn answer(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    request: DeviceRequest,
) -> Response {
    reply(device_answers::answer(&state, &request.device, &uuid, &request.body).await)
}

/// `POST /device/v1/push_token` with `{"push_token": "…"}` (or `null` to stop pushes).
pub async fn update_push_token(State(state): State<AppState>, request: DeviceRequest) -> Response {
    reply(device_answers::update_push_token(&state, &request.device, &request.body).await)
}
