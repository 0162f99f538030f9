//! The device side of signed approvals: the protocol's formats (re-exported from
//! `countersign-protocol`) and, with the `client` feature, the HTTP client that speaks them.

#[cfg(feature = "client")]
mod client;

pub use countersign_protocol::*;

#[cfg(feature = "client")]
pub use client::{
    Challenge, ClientError, Decision, DeviceClient, DeviceCredentials, Pending, Registration,
};
