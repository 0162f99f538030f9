//! Errors: `ServerError` for start-up and internals; `ApiError` for what a client receives,
//! with Authy's HTTP status, message and error code (docs/server-api.md).

use axum::http::StatusCode;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data could not be decrypted (wrong master key?)")]
    Sealed,
}

/// An error answer in Authy's shape: `{"message", "success": false, "errors": {"message"},
/// "error_code"}`, plus any extra fields.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extra: Vec<(String, Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.extra.push((key.to_owned(), value));
        self
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "60000",
            "An error occurred",
        )
    }

    pub fn invalid_api_key() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "60001", "Invalid API key")
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "60002", message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "60004", message)
    }

    pub fn user_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "60026", "User not found.")
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "60002", message)
    }

    pub fn too_many_attempts() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "60003",
            "Too many failed attempts. Try again later.",
        )
    }

    pub fn token_invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "60020", message).with("token", json!("is invalid"))
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "message": self.message,
            "success": false,
            "errors": {"message": self.message},
            "error_code": self.code,
        });
        for (key, value) in &self.extra {
            body[key] = value.clone();
        }
        body
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        // Logged without parameters: sqlx's error text carries no bound values.
        tracing::error!(error = %e, "database error");
        ApiError::internal()
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::internal()
    }
}
