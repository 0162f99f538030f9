//! Errors: `ServerError` for start-up and internals; `ApiError` for what a client receives,
//! with Authy's message and error code (docs/server-api.md) and a [`Refusal`] kind. The
//! HTTP status of each kind is chosen in one place, at the HTTP boundary (`http::error`),
//! so the services that build these errors know nothing of HTTP.

use serde_json::{Value, json};

/// Why a request is refused; `http::error::status` maps each kind to its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data could not be decrypted (wrong master key?)")]
    Sealed,
    /// `users import` refused the whole file (nothing was written).
    #[error("users import: {0}")]
    ImportRefused(String),
    /// `users import` finished, but these many rows were not imported (listed in its report).
    #[error("users import: {0} row(s) not imported")]
    RowsNotImported(usize),
}

/// An error answer in Authy's shape: `{"message", "success": false, "errors": {"message"},
/// "error_code"}`, plus any extra fields.
#[derive(Debug)]
pub struct ApiError {
    pub refusal: Refusal,
    pub code: &'static str,
    pub message: String,
    pub extra: Vec<(String, Value)>,
}

impl ApiError {
    pub fn new(refusal: Refusal, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            refusal,
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
        ApiError::new(Refusal::Unavailable, "60000", "An error occurred")
    }

    pub fn invalid_api_key() -> ApiError {
        ApiError::new(Refusal::Unauthorized, "60001", "Invalid API key")
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Refusal::BadRequest, "60002", message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(Refusal::BadRequest, "60004", message)
    }

    pub fn user_not_found() -> ApiError {
        ApiError::new(Refusal::NotFound, "60026", "User not found.")
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(Refusal::NotFound, "60002", message)
    }

    pub fn too_many_attempts() -> ApiError {
        ApiError::new(
            Refusal::TooManyRequests,
            "60003",
            "Too many failed attempts. Try again later.",
        )
    }

    pub fn token_invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(Refusal::Unauthorized, "60020", message).with("token", json!("is invalid"))
    }

    /// A correct code that was already accepted (authy-java `REUSED_TOKEN`; authy-client
    /// recognises the message).
    pub fn token_reused() -> ApiError {
        ApiError::new(
            Refusal::Unauthorized,
            "60019",
            "Token is invalid. Token was used recently.",
        )
        .with("token", json!("is invalid"))
    }

    /// The user is locked out after too many wrong codes: 429 / `60003`, with the seconds
    /// until the lock ends in `retry_after` (and the `Retry-After` header, `http::error`).
    pub fn locked_out(retry_after: i64) -> ApiError {
        ApiError::too_many_attempts().with("retry_after", json!(retry_after.max(1)))
    }

    /// The SMS provider refused or could not be reached (authy-java `SMS_NOT_SENT`).
    pub fn sms_not_sent() -> ApiError {
        ApiError::new(
            Refusal::Unavailable,
            "60015",
            "SMS token was not sent. Try again later.",
        )
    }

    /// The voice provider refused or could not be reached (authy-java `CALL_NOT_STARTED`).
    pub fn call_not_started() -> ApiError {
        ApiError::new(
            Refusal::Unavailable,
            "60014",
            "Call was not started. Try again later.",
        )
    }

    /// The provider says the number is a landline (authy-java `CANNOT_SEND_SMS_TO_LANDLINE`).
    pub fn sms_to_landline() -> ApiError {
        ApiError::new(Refusal::BadRequest, "60082", "Cannot send SMS to landline.")
    }

    /// The provider says the number cannot be reached (authy-java
    /// `PHONE_NUMBER_NOT_PROVISIONED`).
    pub fn number_unreachable() -> ApiError {
        ApiError::new(
            Refusal::BadRequest,
            "60083",
            "The phone number cannot be reached.",
        )
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

/// A refused device API request: `{"error", "message"}` (docs/device-protocol.md).
#[derive(Debug)]
pub struct DeviceError {
    pub refusal: Refusal,
    pub error: &'static str,
    pub message: &'static str,
}

impl DeviceError {
    pub fn new(refusal: Refusal, error: &'static str, message: &'static str) -> DeviceError {
        DeviceError {
            refusal,
            error,
            message,
        }
    }

    /// `Err(DeviceError::new(…))`, for the services' early returns.
    pub fn refuse<T>(
        refusal: Refusal,
        error: &'static str,
        message: &'static str,
    ) -> Result<T, DeviceError> {
        Err(DeviceError::new(refusal, error, message))
    }

    /// The answer to an internal failure: logged here, told to the device as "try again".
    pub fn unavailable(what: &str, error: &dyn std::fmt::Display) -> DeviceError {
        tracing::error!(error = %error, "{what}");
        DeviceError::new(Refusal::Unavailable, "unavailable", "Try again later.")
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

/// Error codes of Authy's list for users, activities and OneTouch (authy-java's `Error.Code`).
impl ApiError {
    /// 60029: the activity could not be created (bad `type` or `data`).
    pub fn cannot_create_activity(message: impl Into<String>) -> ApiError {
        ApiError::new(Refusal::BadRequest, "60029", message)
    }

    /// 60049: no approval request with this uuid for the app.
    pub fn approval_request_not_found() -> ApiError {
        ApiError::new(Refusal::NotFound, "60049", "Approval request not found.")
    }
}

/// Error codes of Authy's list for the application itself (authy-java's `Error.Code`).
impl ApiError {
    /// 60061: an operator suspended the app (`APPLICATION_SUSPENDED`; 60008,
    /// `ACCOUNT_SUSPENDED`, is about an account, which Countersign does not have).
    pub fn application_suspended() -> ApiError {
        ApiError::new(Refusal::Forbidden, "60061", "Application suspended")
    }
}
