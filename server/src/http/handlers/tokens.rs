//! One-time passwords: SMS and voice delivery, verification (plain, custom action,
//! transactional), and generic authenticator enrolment.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::delivery::Channel;
use crate::http::extract::Call;
use crate::http::qr::qr_data_url;
use crate::service::authenticator::{self, EnrolRequest};
use crate::service::codes::{self, SendRequest};
use crate::service::verification::{self, TransactionInput, VerifyRequest};
use crate::state::AppState;

pub async fn sms(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    send(&state, &call, &id, Channel::Sms).await
}

pub async fn voice(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    send(&state, &call, &id, Channel::Call).await
}

async fn send(state: &AppState, call: &Call, id: &str, channel: Channel) -> Response {
    let p = &call.params;
    let request = SendRequest {
        action: p.text("action"),
        action_message: p.text("action_message"),
        force: p.flag("force"),
        locale: p.text("locale"),
    };
    call.answer(codes::send(state, &call.app, id, channel, request).await)
}

pub async fn verify(
    State(state): State<AppState>,
    Path((_, token, id)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    let p = &call.params;
    let bound =
        p.get("message").is_some() || p.has_prefix("details") || p.has_prefix("hidden_details");
    let transaction = bound.then(|| TransactionInput {
        message: p.get("message"),
        details: p.section("details"),
        hidden_details: p.section("hidden_details"),
    });
    let request = VerifyRequest {
        token: &token,
        force: p.flag("force"),
        action: p.text("action"),
        transaction,
    };
    call.answer(verification::check_token(&state, &call.app, &id, &request).await)
}

pub async fn secret(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let request = EnrolRequest {
        qr_size: call.params.text("qr_size"),
        label: call.params.text("label"),
    };
    call.answer(authenticator::enrol(&state, &call.app, &id, request, qr_data_url).await)
}
