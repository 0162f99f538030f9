//! Countersign's OTP engine: everything that turns a shared secret and a moment (or a
//! counter, or a transaction) into a code, and the URI formats that carry those secrets.
//! Pure computation, no I/O, so the authenticator app and the server share one engine.
//!
//! Modules, one job each:
//! - [`otp`]: HOTP (RFC 4226), TOTP (RFC 6238), Steam Guard, Yandex.Key and mOTP codes,
//!   verification windows, clocks.
//! - [`secret`]: shared secrets (base32, zeroized, weak-secret detection).
//! - [`pin`]: the PIN that Yandex.Key and mOTP accounts hash into their codes.
//! - [`account`]: an enrolled account and its OTP parameters.
//! - [`otpauth`]: `otpauth://` Key URI Format, parse and emit.
//! - [`txotp`]: `txotp://totp` transaction strings and their canonical form.
//! - [`ocra`]: OCRA (RFC 6287), the primitive under transactional codes.
//! - [`transactional`]: codes bound to a transaction (docs/transactional-totp.md).

pub mod account;
pub mod ocra;
pub mod otp;
pub mod otpauth;
pub mod pin;
pub mod secret;
pub mod transactional;
pub mod txotp;

pub use account::{Account, OtpKind, OtpParameters};
pub use otp::{Algorithm, Clock, Code, FixedClock, SystemClock};
pub use pin::Pin;
pub use secret::Secret;
