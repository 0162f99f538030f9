//! The HTTP API: the Authy routes under `/protected/{format}` and `/onetouch/{format}`, and
//! `/healthz` and `/openapi.json`.

pub mod app;
pub mod device_api;
pub mod devices;
pub mod number_matching;
pub mod onetouch;
pub mod phones;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::render;
use crate::state::{AppState, format_of};

/// Every route: (method, path, summary). The router and the OpenAPI document both come
/// from this table.
pub const ROUTES: &[(&str, &str, &str)] = &[
    (
        "post",
        "/protected/{format}/users/new",
        "Create a user (user[email], user[cellphone], user[country_code])",
    ),
    (
        "get",
        "/protected/{format}/users/{id}/status",
        "A user's status",
    ),
    (
        "post",
        "/protected/{format}/users/{id}/delete",
        "Delete a user",
    ),
    (
        "post",
        "/protected/{format}/users/{id}/secret",
        "Generic authenticator enrolment: otpauth URI and QR PNG",
    ),
    (
        "get",
        "/protected/{format}/registrations/status",
        "Registration status by custom_user_id",
    ),
    (
        "get",
        "/protected/{format}/sms/{id}",
        "Send a code by SMS (force, action, action_message, locale)",
    ),
    (
        "get",
        "/protected/{format}/call/{id}",
        "Send a code by voice call (force, locale)",
    ),
    (
        "get",
        "/protected/{format}/verify/{token}/{id}",
        "Verify a code (force, action, message, details[…], hidden_details[…])",
    ),
    (
        "get",
        "/protected/{format}/app/details",
        "The app's details",
    ),
    (
        "get",
        "/protected/{format}/app/stats",
        "The app's statistics",
    ),
    (
        "post",
        "/protected/{format}/phones/verification/start",
        "Send a phone verification code",
    ),
    (
        "get",
        "/protected/{format}/phones/verification/check",
        "Check a phone verification code",
    ),
    (
        "get",
        "/protected/{format}/phones/info",
        "Offline phone number information",
    ),
    (
        "post",
        "/onetouch/{format}/users/{id}/approval_requests",
        "Create a OneTouch approval request",
    ),
    (
        "get",
        "/onetouch/{format}/approval_requests/{uuid}",
        "A OneTouch approval request's status",
    ),
    (
        "post",
        "/protected/{format}/users/{id}/registrations",
        "A one-time device registration code, URI and QR",
    ),
    (
        "get",
        "/protected/{format}/users/{id}/devices",
        "A user's registered devices",
    ),
    (
        "post",
        "/protected/{format}/users/{id}/devices/{device_id}/revoke",
        "Revoke a device",
    ),
];

/// 16 random bytes, base64url: nonces and similar one-time values.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/protected/{format}/users/new", post(users::create))
        .route("/protected/{format}/users/{id}/status", get(users::status))
        .route("/protected/{format}/users/{id}/delete", post(users::delete))
        .route(
            "/protected/{format}/users/{id}/secret",
            post(tokens::secret),
        )
        .route(
            "/protected/{format}/registrations/status",
            get(users::registration_status),
        )
        .route(
            "/protected/{format}/sms/{id}",
            get(tokens::sms).post(tokens::sms),
        )
        .route(
            "/protected/{format}/call/{id}",
            get(tokens::voice).post(tokens::voice),
        )
        .route(
            "/protected/{format}/verify/{token}/{id}",
            get(tokens::verify),
        )
        .route("/protected/{format}/app/details", get(app::details))
        .route("/protected/{format}/app/stats", get(app::stats))
        .route(
            "/protected/{format}/phones/verification/start",
            post(phones::start),
        )
        .route(
            "/protected/{format}/phones/verification/check",
            get(phones::check),
        )
        .route("/protected/{format}/phones/info", get(phones::info))
        .route(
            "/onetouch/{format}/users/{id}/approval_requests",
            post(onetouch::create),
        )
        .route(
            "/onetouch/{format}/approval_requests/{uuid}",
            get(onetouch::status),
        )
        .route(
            "/protected/{format}/users/{id}/registrations",
            post(devices::create_registration),
        )
        .route("/protected/{format}/users/{id}/devices", get(devices::list))
        .route(
            "/protected/{format}/users/{id}/devices/{device_id}/revoke",
            post(devices::revoke),
        )
        .route("/device/v1/register", post(devices::register))
        .route("/device/v1/approval_requests", get(device_api::pending))
        .route("/device/v1/push_token", post(device_api::update_push_token))
        .route(
            "/device/v1/approval_requests/{uuid}/answer",
            post(device_api::answer),
        )
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline,
        ))
        .with_state(state)
}

/// The longest a request may take; past it the client gets 503 (`60000`).
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Answers at once with 503 while the database takes no writes (health.rs), and bounds
/// every other request by [`REQUEST_DEADLINE`]. `/healthz` always runs: it probes itself.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path != "/healthz" && !state.health.writable() {
        return unavailable(&path);
    }
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(path, "request deadline passed");
            unavailable(&path)
        }
    }
}

fn unavailable(path: &str) -> Response {
    let format = format_of(path).unwrap_or(render::Format::Json);
    let error = ApiError::internal();
    render::respond(format, error.status, &error.body())
}

/// Counts an event for the app's statistics (buffered; see `crate::jobs::stats` for when the
/// counts reach the database and what a crash can lose).
pub async fn record_event(state: &AppState, app_id: i64, kind: &'static str) {
    crate::jobs::stats::record(state, app_id, kind);
}

/// Writes the buffered counts now (the statistics route calls it so that its answer includes
/// this instance's latest counts); failed counts stay buffered.
pub async fn flush_events(state: &AppState) -> Result<(), sqlx::Error> {
    crate::jobs::stats::flush(state).await
}

/// Healthy only if the database takes a write now: a full, read-only or stuck database is
/// reported (503) within the database deadline.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.health.probe(&state.db).await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
    }
}

async fn not_found(uri: Uri) -> Response {
    let format = format_of(uri.path()).unwrap_or(render::Format::Json);
    let error = ApiError::not_found("Not found.");
    render::respond(format, error.status, &error.body())
}

async fn method_not_allowed(uri: Uri) -> Response {
    let format = format_of(uri.path()).unwrap_or(render::Format::Json);
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "60002",
        "Method not allowed.",
    );
    render::respond(format, error.status, &error.body())
}

pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let schema = if name == "format" {
                    json!({"type": "string", "enum": ["json", "xml"]})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = json!({
            "summary": summary,
            "parameters": params,
            "security": [{"ApiKey": []}],
            "responses": {
                "200": {"description": "Success"},
                "400": {"description": "Invalid request (error_code 60002, 60004, 60027, 60033)"},
                "401": {"description": "Invalid API key (60001) or invalid token (60020, 60022)"},
                "404": {"description": "Unknown user (60026) or resource"},
                "429": {"description": "Too many failed attempts (60003)"},
            },
        });
    }
    paths.insert("/healthz".into(), json!({"get": {"summary": "Liveness and database check", "responses": {"200": {"description": "Healthy"}}}}));
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Countersign server (Authy-compatible API)", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Authy-API-Key"}}},
        "paths": paths,
    })
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}
