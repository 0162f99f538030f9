//! Signing in and out: the password form, the second factor (a TOTP code, or the operator's
//! phone approving a push request) and logout. Every refusal of the password step reads the
//! same, whatever was wrong.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::html;
use crate::http::console::layout::{Notice, notice, public_page};
use crate::http::console::session::{
    self, ConsoleForm, PendingOperator, SameOriginForm, internal_error, set_cookie,
};
use crate::service::console_sessions::{self, Stage};
use crate::service::operators::PasswordCheck;
use crate::service::{console_actions, console_push, operators};
use crate::state::AppState;

/// Where a new session starts.
const HOME: &str = "/console/apps";
/// The one answer to a failed password step.
const REFUSED: &str = "Sign-in failed. Check the email and password, or try again later.";
/// The password checks are all taken (a flood of sign-ins): nothing was counted.
const BUSY: &str = "The console is busy. Try again in a moment.";

fn login_form(problem: Option<&str>) -> Markup {
    public_page(
        "Sign in",
        html! {
            @if let Some(text) = problem { (notice(Notice::Problem, text)) }
            form.card method="post" action="/console/login" {
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="username" required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { "Continue" } }
            }
        },
    )
}

/// `GET /console/login`.
pub async fn form() -> Response {
    html(StatusCode::OK, login_form(None))
}

/// `POST /console/login`: the password step; on success a pending session and the second
/// factor page.
pub async fn password(
    axum::extract::State(state): axum::extract::State<AppState>,
    form: SameOriginForm,
) -> Response {
    let email = form.get("email").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let operator = match operators::check_password(&state, email, password, &form.client).await {
        Ok(PasswordCheck::Accepted(operator)) => operator,
        Ok(PasswordCheck::Refused) => {
            return html(StatusCode::UNAUTHORIZED, login_form(Some(REFUSED)));
        }
        Ok(PasswordCheck::Busy) => {
            return html(StatusCode::SERVICE_UNAVAILABLE, login_form(Some(BUSY)));
        }
        Err(e) => return internal_error(&e),
    };
    let started = async {
        let approval = console_push::ask(&state, &operator, &form.client).await?;
        let client = &form.client;
        console_sessions::start(
            &state,
            operator.id,
            Stage::Pending,
            client,
            approval.as_deref(),
        )
        .await
    };
    match started.await {
        Ok(id) => with_session(&id, "/console/login/second-factor"),
        Err(e) => internal_error(&e),
    }
}

/// A redirect to `to` that gives the browser session `id`.
fn with_session(id: &str, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(id));
    response
}

/// The push box: polled by console.js, with a form to continue once the phone approved
/// (which works without the script too).
fn push_box(pending: &PendingOperator, number: Option<i64>) -> Markup {
    html! {
        section.card #push data-poll="/console/login/push-status" data-form="push-continue" {
            h2 { "Approve on your phone" }
            p { "A sign-in request was sent to your phone. Approve it in the countersign app." }
            @if let Some(number) = number {
                p { "Pick this number on the phone: " strong #push-number { (number) } }
            }
            p.muted data-status { "Waiting for the phone…" }
            form #push-continue method="post" action="/console/login/push" {
                (pending.csrf.field())
                button type="submit" { "I approved it — continue" }
            }
        }
    }
}

fn totp_form(pending: &PendingOperator, problem: Option<&str>) -> Markup {
    second_factor_page(pending, None, problem)
}

fn second_factor_page(
    pending: &PendingOperator,
    number: Option<i64>,
    problem: Option<&str>,
) -> Markup {
    public_page(
        "Second factor",
        html! {
            @if let Some(text) = problem { (notice(Notice::Problem, text)) }
            @if pending.session.approval_uuid.is_some() { (push_box(pending, number)) }
            @if pending.operator.totp_sealed.is_some() {
                form.card method="post" action="/console/login/totp" {
                    (pending.csrf.field())
                    label for="code" { "Code from your authenticator" }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                    p { button type="submit" { "Sign in" } }
                }
            } @else if pending.session.approval_uuid.is_none() {
                p { "The phone could not be asked, and this account has no other second factor. Sign in again later." }
            }
        },
    )
}

/// `GET /console/login/second-factor`.
pub async fn second_factor(
    axum::extract::State(state): axum::extract::State<AppState>,
    pending: PendingOperator,
) -> Response {
    let number = match &pending.session.approval_uuid {
        Some(uuid) => match console_push::answer(&state, uuid).await {
            Ok(answer) => answer.number,
            Err(e) => return internal_error(&e),
        },
        None => None,
    };
    html(StatusCode::OK, second_factor_page(&pending, number, None))
}

/// `GET /console/login/push-status`: `{"status": "pending" | "approved" | "denied" |
/// "expired"}` for the pending session's request.
pub async fn push_status(
    axum::extract::State(state): axum::extract::State<AppState>,
    pending: PendingOperator,
) -> Response {
    let Some(uuid) = &pending.session.approval_uuid else {
        return axum::Json(serde_json::json!({"status": "expired"})).into_response();
    };
    match console_push::answer(&state, uuid).await {
        Ok(answer) => axum::Json(serde_json::json!({"status": answer.status})).into_response(),
        Err(e) => internal_error(&e),
    }
}

/// `POST /console/login/push`: signs in only if the phone approved this session's request
/// (checked here, whatever the script said).
pub async fn push(
    axum::extract::State(state): axum::extract::State<AppState>,
    pending: PendingOperator,
    form: SameOriginForm,
) -> Response {
    if !pending.csrf.matches(form.get("csrf")) {
        return (StatusCode::FORBIDDEN, "Refused: the form's token is wrong.").into_response();
    }
    let Some(uuid) = &pending.session.approval_uuid else {
        return session::to_login();
    };
    match console_push::answer(&state, uuid).await {
        Ok(answer) if answer.status == "approved" => activate(&state, &pending, "push").await,
        Ok(answer) if answer.status == "pending" => html(
            StatusCode::CONFLICT,
            second_factor_page(
                &pending,
                answer.number,
                Some("The phone has not approved yet."),
            ),
        ),
        Ok(_) => {
            let _ = console_sessions::end(&state, &pending.session_id).await;
            html(
                StatusCode::UNAUTHORIZED,
                login_form(Some("The sign-in was denied or expired. Sign in again.")),
            )
        }
        Err(e) => internal_error(&e),
    }
}

/// `POST /console/login/totp`: the code; on success the pending session is replaced by an
/// active one under a new id.
pub async fn totp(
    axum::extract::State(state): axum::extract::State<AppState>,
    pending: PendingOperator,
    form: SameOriginForm,
) -> Response {
    if !pending.csrf.matches(form.get("csrf")) {
        return (StatusCode::FORBIDDEN, "Refused: the form's token is wrong.").into_response();
    }
    let code = form.get("code").unwrap_or_default();
    match operators::check_totp(&state, &pending.operator, code).await {
        Ok(true) => activate(&state, &pending, "totp").await,
        Ok(false) => html(
            StatusCode::UNAUTHORIZED,
            totp_form(&pending, Some("That code is not right. Try the next one.")),
        ),
        Err(e) => internal_error(&e),
    }
}

/// Ends the pending session and starts the active one (a new id: the id seen before the
/// second factor is worth nothing after it).
pub(super) async fn activate(
    state: &AppState,
    pending: &PendingOperator,
    how: &'static str,
) -> Response {
    let started = async {
        // Once only: of two requests racing with one pending session, one gets a session.
        if !console_sessions::end(state, &pending.session_id).await? {
            return Ok(None);
        }
        operators::signed_in(state, &pending.operator).await?;
        console_actions::signed_in(state, pending.operator.id, how, &pending.session.client)
            .await?;
        let id = console_sessions::start(
            state,
            pending.operator.id,
            Stage::Active,
            &pending.session.client,
            None,
        )
        .await?;
        Ok(Some(id))
    };
    match started.await {
        Ok(Some(id)) => with_session(&id, HOME),
        Ok(None) => session::to_login(),
        Err(e) => internal_error(&e),
    }
}

/// `POST /console/logout`: the session is deleted, so its cookie opens nothing any more.
pub async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    form: ConsoleForm,
) -> Response {
    let ended = async {
        console_sessions::end(&state, &form.operator.session_id).await?;
        console_actions::signed_out(&state, form.operator.id).await
    };
    if let Err(e) = ended.await {
        return internal_error(&e);
    }
    session::to_login()
}
