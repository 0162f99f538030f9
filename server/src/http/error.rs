//! Errors at the HTTP boundary: the one list that gives each [`Refusal`] its HTTP status, and
//! the rendering of API and device errors.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::render::{self, Format};
use crate::error::{ApiError, DeviceError, Refusal};

/// The HTTP status of each kind of refusal.
pub fn status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::BadRequest => StatusCode::BAD_REQUEST,
        Refusal::Unauthorized => StatusCode::UNAUTHORIZED,
        Refusal::Forbidden => StatusCode::FORBIDDEN,
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Refusal::Conflict => StatusCode::CONFLICT,
        Refusal::Gone => StatusCode::GONE,
        Refusal::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// An Authy API error in the requested format. A `retry_after` field (the lock-out) is also
/// sent as the standard `Retry-After` header, which HTTP clients and proxies understand.
pub fn api_error(format: Format, error: &ApiError) -> Response {
    let mut response = render::respond(format, status(error.refusal), &error.body());
    let retry_after = error
        .extra
        .iter()
        .find(|(key, _)| key == "retry_after")
        .and_then(|(_, value)| value.as_i64());
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(0)));
    }
    response
}

/// A device API error: `{"error", "message"}`.
pub fn device_error(error: &DeviceError) -> Response {
    let body = json!({"error": error.error, "message": error.message});
    (status(error.refusal), Json(body)).into_response()
}

/// Rejection that still answers in the requested format (JSON when it is unknown).
pub struct Rejection(pub Format, pub ApiError);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        api_error(self.0, &self.1)
    }
}

impl IntoResponse for DeviceError {
    fn into_response(self) -> Response {
        device_error(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_maps_to_a_client_or_server_error_status() {
        let all = [
            (Refusal::BadRequest, 400),
            (Refusal::Unauthorized, 401),
            (Refusal::Forbidden, 403),
            (Refusal::NotFound, 404),
            (Refusal::MethodNotAllowed, 405),
            (Refusal::Conflict, 409),
            (Refusal::Gone, 410),
            (Refusal::PayloadTooLarge, 413),
            (Refusal::TooManyRequests, 429),
            (Refusal::Unavailable, 503),
        ];
        for (refusal, code) in all {
            assert_eq!(status(refusal).as_u16(), code, "{refusal:?}");
        }
    }
}
