//! The services: what the API does, without HTTP and without SQL. Each function takes plain
//! inputs (the request's fields, already extracted by `http`) and the state, whose store
//! (`crate::store`) it calls for every read and write; it answers Authy's JSON body or an
//! `ApiError` / `DeviceError` whose HTTP status `http::error` chooses.

pub mod activities;
pub mod approvals;
pub mod apps;
pub mod audit;
pub mod audit_check;
pub mod authenticator;
pub mod codes;
pub mod device_answers;
pub mod device_auth;
pub mod message_log;
pub mod migration;
pub mod number_matching;
pub mod operator_approvals;
pub mod operator_deliveries;
pub mod operator_users;
pub mod otp;
pub mod phone_numbers;
pub mod phone_status;
pub mod phones;
pub mod rate_limit;
pub mod registration;
pub mod stats;
pub mod templates;
pub mod users;
pub mod verification;
pub mod verification_log;

use crate::error::ApiError;

/// A numeric parameter as sent (trimmed, non-empty), or Authy's "must be a number".
pub fn number_param(name: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    match text {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::invalid_parameter(format!("The parameter {name} must be a number."))
        }),
    }
}
pub mod console_actions;
pub mod console_push;
pub mod console_sessions;
pub mod operators;
