//! What the operations pages share: times in UTC, filters in links, parsing ids from the
//! query or path, and the refusal page.

use axum::http::StatusCode;
use axum::response::Response;

use crate::clock::Civil;
use crate::error::ApiError;
use crate::http::console::layout::{Notice, notice, page};
use crate::http::console::session::Operator;

/// A Unix time as `2026-11-28 17:05:09 UTC`; "—" for 0 (never).
pub fn time(unix: i64) -> String {
    if unix <= 0 {
        return "—".to_owned();
    }
    let at = Civil::from_unix(unix);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year, at.month, at.day, at.hour, at.minute, at.second
    )
}

/// A query string from the filters that are set (`app=3&state=pending`), values encoded.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if let Some(value) = value {
            out.append_pair(key, value);
        }
    }
    out.finish()
}

/// A page's optional numeric filter: absent or empty is `None`; anything but a positive
/// number is refused.
pub fn optional_id(text: Option<&str>) -> Result<Option<i64>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter("Ids are positive numbers.")),
    }
}

/// A path id, or the page's "not found".
pub fn path_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(format!("{what} not found.")))
}

/// A refused page: the API error's status and its own message (which never holds a
/// secret), in the console's frame.
pub fn refused(operator: &Operator, error: &ApiError) -> Response {
    let status = crate::http::error::status(error.refusal);
    let title = if status == StatusCode::NOT_FOUND {
        "Not found"
    } else {
        "Refused"
    };
    let body = notice(Notice::Problem, &error.message);
    super::html(status, page(title, operator, body))
}
