//! Counting every request for `/metrics`: by route PATTERN (paths carry codes and ids, and
//! would also make the label set unbounded), method and status, with its latency.
//!
//! The pattern is only known once the router has matched, so an inner layer on the routes
//! tags the response with it and the outer layer, which sees every answer (fallbacks, the
//! deadline's 503, the rate limit's 429), counts it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The label of a request no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// The route pattern a response answered, put in its extensions by [`tag_route`].
#[derive(Clone, Debug)]
struct RoutePattern(MatchedPath);

/// Route layer: tags the response with the matched route's pattern.
pub async fn tag_route(request: Request, next: Next) -> Response {
    let pattern = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(pattern) = pattern {
        response.extensions_mut().insert(RoutePattern(pattern));
    }
    response
}

/// Counts an answered request (the outermost layer calls it, so every answer is seen: the
/// fallbacks, the deadline's 503, the rate limit's 429).
pub fn count(state: &AppState, response: &Response, method: &'static str, started: Instant) {
    let route = response
        .extensions()
        .get::<RoutePattern>()
        .map_or(UNMATCHED, |p| p.0.as_str());
    state.metrics.request(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
}

/// The method as a label: the standard ones by name, anything else as `other` (a client
/// must not grow the label set).
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    for known in [
        Method::GET,
        Method::POST,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::PATCH,
    ] {
        if *method == known {
            return known_name(&known);
        }
    }
    "other"
}

fn known_name(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "other",
    }
}
