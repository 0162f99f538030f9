//! The HMAC core shared by HOTP, TOTP, Steam and OCRA.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use super::{Algorithm, Code, STEAM_ALPHABET, STEAM_DIGITS};

/// An HMAC result: the first `len` bytes of `bytes` (64 is SHA-512's size).
pub struct HmacOutput {
    bytes: [u8; 64],
    len: usize,
}

impl HmacOutput {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn mac_with<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> HmacOutput {
    // HMAC takes keys of any length (long ones are hashed), so construction cannot fail;
    // the fallback keeps this path panic-free all the same.
    let mut mac = match <M as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => <M as KeyInit>::new(&Default::default()),
    };
    mac.update(message);
    let tag = mac.finalize().into_bytes();
    let mut bytes = [0u8; 64];
    bytes[..tag.len()].copy_from_slice(&tag);
    HmacOutput {
        bytes,
        len: tag.len(),
    }
}

/// HMAC of `message` under `key` with the given hash.
pub fn hmac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> HmacOutput {
    match algorithm {
        Algorithm::Sha1 => mac_with::<Hmac<Sha1>>(key, message),
        Algorithm::Sha256 => mac_with::<Hmac<Sha256>>(key, message),
        Algorithm::Sha512 => mac_with::<Hmac<Sha512>>(key, message),
    }
}

/// RFC 4226 section 5.3 dynamic truncation: 31 bits picked by the last nibble.
pub(crate) fn dynamic_truncate(mac: &[u8]) -> u32 {
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ])
}

/// A decimal code of `digits` (1 to 10) digits from an HMAC result.
pub(crate) fn decimal_code(mac: &[u8], digits: u8) -> Code {
    let value = u64::from(dynamic_truncate(mac)) % 10u64.pow(u32::from(digits));
    Code::decimal(value, digits)
}

/// HOTP (RFC 4226): the code for `counter`. `digits` must be 1 to 10; callers hold an
/// [`OtpParameters`](crate::OtpParameters), which guarantees it.
pub fn hotp_code(algorithm: Algorithm, key: &[u8], counter: u64, digits: u8) -> Code {
    let mac = hmac(algorithm, key, &counter.to_be_bytes());
    decimal_code(mac.as_bytes(), digits)
}

/// Steam Guard: the HOTP truncation written in the Steam alphabet, 5 characters.
pub fn steam_code(key: &[u8], step: u64) -> Code {
    let mac = hmac(Algorithm::Sha1, key, &step.to_be_bytes());
    Code::from_alphabet(
        dynamic_truncate(mac.as_bytes()),
        STEAM_ALPHABET,
        STEAM_DIGITS,
    )
}

/// RFC 6238 time step T = floor(unix_time / period), with T0 = 0. `period` ≥ 1.
pub fn totp_step(unix_time: u64, period: u32) -> u64 {
    unix_time / u64::from(period.max(1))
}
