//! The operator's web console under `/console`: server-rendered pages (maud, which escapes
//! every value it interpolates), its own route table (`routes`), sessions and CSRF checks
//! (`session`), the page frame (`layout`), the embedded stylesheet and script (`assets`).
//! Every page answer carries a strict Content-Security-Policy and is never cached. See
//! docs/console.md.

pub mod assets;
pub mod layout;
pub mod pages;
pub mod routes;
pub mod session;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The Content-Security-Policy of every console answer: nothing but this origin's own
/// stylesheet, script and fetches; no inline script or style, no framing, no foreign forms.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's router (paths already under `/console`), merged into the server's.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for route in routes::CONSOLE_ROUTES {
        router = router.route(&route.full_path(), (route.handler)());
    }
    router
        .layer(DefaultBodyLimit::max(session::MAX_FORM))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Adds the security headers; pages are `no-store` (an asset keeps its own caching).
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
