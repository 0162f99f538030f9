//! `GET /metrics`: the Prometheus text page. Served on the main listener, but only to a
//! client whose address (as recorded, after trusted-proxy forwarding) is loopback, or to
//! one sending `Authorization: Bearer <metrics_token>` when a token is configured.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Refusal};
use crate::http::extract::ClientAddress;
use crate::http::render::Format;
use crate::state::AppState;

pub async fn metrics(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let from_loopback = client.is_some_and(|c| c.0.0.to_canonical().is_loopback());
    if !from_loopback && !bearer_matches(&headers, state.settings.metrics_token.as_deref()) {
        let error = ApiError::new(
            Refusal::Unauthorized,
            "60001",
            "Metrics need a loopback client or the metrics bearer token.",
        );
        return crate::http::error::api_error(Format::Json, &error);
    }
    match crate::jobs::callbacks::queue_depth(&state).await {
        Ok(depth) => state.metrics.callback_queue_depth(depth),
        Err(e) => tracing::warn!(error = %e, "reading the callback queue depth for /metrics"),
    }
    let mut response = (StatusCode::OK, state.metrics.encode()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}

/// Whether the request carries the configured token (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return false;
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    bool::from(sent.as_bytes().ct_eq(token.as_bytes()))
}
