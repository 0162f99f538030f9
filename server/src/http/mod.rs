//! The HTTP layer: the route table (`routes`, from which the router and the OpenAPI document
//! are made), the extractors (API key, signed device request), the rendering of answers
//! (JSON/XML, QR images), the error → status mapping, and thin handlers that call
//! `service`. The only module (with `run`) that knows axum.

pub mod console;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod qr;
pub mod render;
pub mod routes;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

pub use self::extract::MAX_BODY;
use self::extract::format_of;
pub use self::qr::qr_png;
use self::render::Format;
use crate::error::{ApiError, Refusal};
use crate::state::AppState;

/// The longest a request may take; past it the client gets 503 (`60000`).
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// The API's router: every route of [`routes::ROUTES`], with the body limit, the deadline
/// and Authy-shaped answers for unknown routes and methods.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes::ROUTES {
        router = router.route(route.path, route.method_router());
    }
    router
        .merge(console::router())
        .route_layer(axum::middleware::from_fn(observe::tag_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            front_door,
        ))
        .with_state(state)
}

/// Every request passes here once, outermost: it is counted for `/metrics` however it is
/// answered ([`admit`]'s refusals too). One layer rather than one per concern: each layer
/// costs every request a boxed future, which the verify load measured.
async fn front_door(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = observe::method_label(request.method());
    let response = admit(&state, request, next).await;
    observe::count(&state, &response, method, started);
    response
}

/// Refuses a client address over its rate limit (`service::rate_limit`) before any work;
/// answers at once with 503 while the database takes no writes (store/health.rs); bounds
/// every other request by [`REQUEST_DEADLINE`]. The health check and the metrics page are
/// not limited (monitoring must see a flood), and `/healthz` always runs: it probes itself.
async fn admit(state: &AppState, request: Request, next: Next) -> Response {
    let uri = request.uri().clone();
    let path = uri.path();
    let monitoring = path == "/healthz" || path == "/metrics";
    let address = request
        .extensions()
        .get::<extract::ClientAddress>()
        .map(|a| a.0);
    if let Some(address) = address.filter(|_| !monitoring)
        && let Err(error) = crate::service::rate_limit::check_address(state, address)
    {
        return refuse(path, &error);
    }
    if path != "/healthz" && !state.health.writable() {
        return refuse(path, &ApiError::internal());
    }
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(path, "request deadline passed");
            refuse(path, &ApiError::internal())
        }
    }
}

/// An error in the format the path asks for (JSON when it names none).
fn refuse(path: &str, error: &ApiError) -> Response {
    error::api_error(format_of(path).unwrap_or(Format::Json), error)
}

async fn not_found(uri: Uri) -> Response {
    refuse(uri.path(), &ApiError::not_found("Not found."))
}

async fn method_not_allowed(uri: Uri) -> Response {
    let error = ApiError::new(Refusal::MethodNotAllowed, "60002", "Method not allowed.");
    refuse(uri.path(), &error)
}
