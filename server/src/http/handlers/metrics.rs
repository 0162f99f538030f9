//! `GET /metrics`: the Prometheus text page. Served on the main listener, but only to a
//! scraper on this host — a loopback peer that is not a trusted proxy and forwards nothing —
//! or to a client sending `Authorization: Bearer <metrics_token>` when a token is configured.
//!
//! The loopback exemption looks at the connection itself, never at a forwarded address: a
//! reverse proxy on the same host (trusted or not, `behind_proxy` forgotten) is a loopback
//! peer too, and would otherwise hand the page to anyone on the internet.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Refusal};
use crate::http::extract::PeerAddr;
use crate::http::render::Format;
use crate::state::AppState;

pub async fn metrics(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<PeerAddr>>>,
    headers: HeaderMap,
) -> Response {
    let peer = peer.map(|p| p.0.0.0.ip().to_canonical());
    let from_loopback = peer.is_some_and(|p| {
        p.is_loopback() && !state.settings.trusted_proxies.trusts(p) && !forwards(&headers)
    });
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

/// Whether a proxy handed the request on (any of the forwarding headers in use).
fn forwards(headers: &HeaderMap) -> bool {
    ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|name| headers.contains_key(*name))
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
