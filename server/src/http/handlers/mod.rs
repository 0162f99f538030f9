//! The handlers: thin — take the request's fields, call one service, render its answer. No
//! handler calls another's helpers; what they share lives in `service`.

pub mod app;
pub mod device_api;
pub mod devices;
pub mod metrics;
pub mod onetouch;
pub mod phones;
pub mod system;
pub mod tokens;
pub mod users;
