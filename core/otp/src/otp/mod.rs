//! One-time password engine: HOTP, TOTP and Steam Guard codes from one HMAC core, and the
//! two kinds built on other constructions: Yandex.Key ([`yandex`]) and mOTP ([`motp`]).
//!
//! totp-rs, the design's first choice, is used in the tests as an independent second
//! implementation, not here: it has no HOTP counter API, accepts only 6 to 8 digits (Authy
//! and banks use up to 10), and cannot report which time step a code matched, which a server
//! needs to refuse a replayed code. RFC 4226 truncation over RustCrypto's HMAC is a few lines.

mod algorithm;
mod clock;
mod code;
mod hotp;
pub mod motp;
mod verify;
pub mod yandex;

pub use algorithm::Algorithm;
pub use clock::{Clock, FixedClock, SystemClock};
pub use code::Code;
pub(crate) use hotp::decimal_code as decimal_code_of;
pub use hotp::{HmacOutput, hmac, hotp_code, steam_code, totp_step};
pub use motp::{MOTP_DIGITS, MOTP_PERIOD, motp_code};
pub use verify::{HotpMatch, TotpMatch, Window, resync_hotp, verify_hotp, verify_totp};
pub use yandex::{YANDEX_DIGITS, YANDEX_PERIOD, YandexSecretError, yandex_code, yandex_secret};

/// Smallest and largest number of decimal digits a code may have.
pub const MIN_DIGITS: u8 = 6;
pub const MAX_DIGITS: u8 = 10;

/// The Steam Guard alphabet: 26 characters without look-alikes.
pub const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";
/// Steam Guard codes are always 5 characters, SHA-1, 30 seconds.
pub const STEAM_DIGITS: u8 = 5;
pub const STEAM_PERIOD: u32 = 30;
