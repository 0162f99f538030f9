//! Phone verification: start, check, and offline number information.

use axum::extract::State;
use axum::response::Response;

use crate::http::extract::Call;
use crate::service::phones::{self, CheckRequest, StartRequest};
use crate::state::AppState;

pub async fn start(State(state): State<AppState>, call: Call) -> Response {
    let p = &call.params;
    let request = StartRequest {
        phone: p.text("phone_number"),
        country_code: p.text("country_code"),
        via: p.text("via"),
        code_length: p.text("code_length"),
        locale: p.text("locale"),
    };
    call.answer(phones::start(&state, &call.app, request).await)
}

pub async fn check(State(state): State<AppState>, call: Call) -> Response {
    let p = &call.params;
    let request = CheckRequest {
        phone: p.text("phone_number"),
        country_code: p.text("country_code"),
        code: p.text("verification_code"),
    };
    call.answer(phones::check(&state, &call.app, request).await)
}

pub async fn info(call: Call) -> Response {
    let p = &call.params;
    call.answer(phones::info(p.text("phone_number"), p.text("country_code")))
}

pub async fn status(State(state): State<AppState>, call: Call) -> Response {
    let p = &call.params;
    let (phone, country_code) = (p.text("phone_number"), p.text("country_code"));
    call.answer(crate::service::phone_status::status(&state, &call.app, phone, country_code).await)
}
