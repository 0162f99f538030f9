//! The console's pages, one module per subject; each handler parses, calls one `service`
//! function, and renders with `layout`.

pub mod apps;
pub mod login;
// The operations pages (users, approvals, deliveries, usage, audit).
pub mod approvals;
pub mod audit;
pub mod deliveries;
pub mod shown;
pub mod usage;
pub mod users;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::Markup;

use crate::error::ServerError;

/// A rendered page as an answer.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// What a refused operator action tells the operator: the service's own words for a
/// refusal it explains (`Config`), a generic line for anything else (logged).
pub fn problem_text(error: &ServerError) -> String {
    match error {
        ServerError::Config(text) => text.clone(),
        other => {
            tracing::error!(error = %other, "console action failed");
            "Something went wrong; the server log has the details.".to_owned()
        }
    }
}
