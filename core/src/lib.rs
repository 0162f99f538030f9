//! Countersign core: the authenticator's domain logic, free of any FFI type.
//!
//! Modules, one job each:
//! - [`otp`]: HOTP (RFC 4226), TOTP (RFC 6238), Steam Guard codes, verification windows, clocks.
//! - [`secret`]: shared secrets (base32, zeroized, weak-secret detection).
//! - [`account`]: an enrolled account and its OTP parameters.
//! - [`otpauth`]: `otpauth://` Key URI Format, parse and emit.
//! - [`migration`]: Google Authenticator `otpauth-migration://offline` exports.
//! - [`txotp`]: `txotp://totp` transaction strings and their canonical form.
//! - [`ocra`]: OCRA (RFC 6287), the primitive under transactional codes.
//! - [`transactional`]: codes bound to a transaction (docs/transactional-totp.md).
//! - [`scan`]: QR codes in camera frames and image files, payloads classified.
//! - [`vault`], [`transfer`], [`device`]: encrypted storage, imports/exports, signed approvals.

// Library code reports errors; unwrap/expect would turn bad input into a crash.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod account;
pub mod device;
pub mod migration;
pub mod ocra;
pub mod otp;
pub mod otpauth;
#[cfg(feature = "scan")]
pub mod scan;
pub mod secret;
pub mod transactional;
pub mod transfer;
pub mod txotp;
pub mod vault;

mod error;

pub use account::{Account, OtpKind, OtpParameters};
pub use error::Error;
pub use otp::{Algorithm, Clock, Code, FixedClock, SystemClock};
pub use secret::Secret;
