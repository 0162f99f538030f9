//! Countersign's app crate: what the authenticator does around the OTP engine — the
//! encrypted vault, imports and exports, Google Authenticator migration payloads, QR scanning
//! (feature `scan`) and the device protocol's HTTP client (feature `client`). The bindings and
//! the CLI build on this crate; the server never does (docs/architecture.md).
//!
//! Modules, one job each:
//! - [`migration`]: Google Authenticator `otpauth-migration://offline` exports.
//! - [`payload`]: what a scanned or pasted text is (account, export part, transaction, …).
//! - [`scan`]: QR codes in camera frames and image files, payloads classified.
//! - [`vault`], [`transfer`], [`device`]: encrypted storage, imports/exports, signed approvals.
//!
//! The engine's modules ([`otp`], [`secret`], [`account`], [`otpauth`], [`txotp`], [`ocra`],
//! [`transactional`]) are `countersign-otp`'s, re-exported so an app needs one dependency.

pub mod device;
pub mod migration;
pub mod payload;
#[cfg(feature = "scan")]
pub mod scan;
pub mod transfer;
pub mod vault;

mod error;

pub use error::Error;

pub use countersign_otp::{
    Account, Algorithm, Clock, Code, FixedClock, OtpKind, OtpParameters, Pin, Secret, SystemClock,
    account, ocra, otp, otpauth, pin, secret, transactional, txotp,
};
