//! OneTouch approval requests: create, status.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::http::extract::Call;
use crate::service::approvals::{self, CreateRequest};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let p = &call.params;
    let request = CreateRequest {
        message: p.text("message"),
        details: p.section("details"),
        hidden_details: p.section("hidden_details"),
        seconds_to_expire: p.text("seconds_to_expire"),
        all_params: p.pairs(),
        number_matching: p.text("number_matching"),
    };
    call.answer(approvals::create(&state, &call.app, &id, request).await)
}

pub async fn status(
    State(state): State<AppState>,
    Path((_, uuid)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(approvals::status(&state, &call.app, &uuid).await)
}
