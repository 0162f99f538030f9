//! Users: create, status, delete (on each path the libraries use), registration status,
//! activities.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::http::extract::Call;
use crate::service::activities::{self, ActivityRequest};
use crate::service::users::{self, NewUserRequest};
use crate::state::AppState;

pub async fn create(State(state): State<AppState>, call: Call) -> Response {
    let p = &call.params;
    let request = NewUserRequest {
        email: p.text("user[email]").unwrap_or(""),
        custom_user_id: p.text("user[custom_user_id]").or(p.text("custom_user_id")),
        cellphone: p.text("user[cellphone]"),
        country_code: p.text("user[country_code]"),
    };
    call.answer(users::create(&state, call.app.id, request).await)
}

pub async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(users::status(&state, call.app.id, &id).await)
}

pub async fn delete(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    call.answer(users::delete(&state, call.app.id, &id).await)
}

pub async fn registration_status(State(state): State<AppState>, call: Call) -> Response {
    let custom = call.params.text("custom_user_id");
    call.answer(users::registration_status(&state, call.app.id, custom).await)
}

pub async fn register_activity(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let p = &call.params;
    let request = ActivityRequest {
        kind: p.text("type"),
        data: p.section("data"),
        data_is_scalar: p.get("data").is_some(),
        user_ip: p.text("user_ip"),
    };
    call.answer(activities::register(&state, call.app.id, &id, request).await)
}
