//! Yandex.Key codes ("yaotp"): 8 letters every 30 seconds from a 16-byte secret and a PIN.
//!
//! The algorithm, as the Yandex.Key app computes it and Aegis (`crypto/otp/YAOTP.java`) and
//! KeeYaOtp re-implement it; docs/formats/otp-kinds.md has the published vectors:
//! 1. key = SHA-256(PIN as UTF-8 ‖ secret); when its first byte is zero that byte is dropped
//!    (the app handles the hash as a big integer, which has no leading zero byte);
//! 2. mac = HMAC-SHA-256(key, big-endian 64-bit time step), 30-second steps from 0;
//! 3. RFC 4226 dynamic truncation, but of 8 bytes (63 bits) instead of 4;
//! 4. that number modulo 26⁸, written most significant first in the letters a–z.
//!
//! A secret as Yandex.Key shows it for backup is 26 bytes: the 16 of the key, 8 more and a
//! 12-bit checksum in the last two bytes; QR codes carry the 16 bytes alone.
//! [`yandex_secret`] takes both and keeps the 16.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::Code;
use crate::secret::Secret;

/// Yandex.Key codes are 8 letters, made every 30 seconds.
pub const YANDEX_DIGITS: u8 = 8;
pub const YANDEX_PERIOD: u32 = 30;
/// Bytes of the key part of a Yandex secret, and of the checksummed form apps show.
pub const YANDEX_SECRET_BYTES: usize = 16;
pub const YANDEX_FULL_SECRET_BYTES: usize = 26;

/// The checksum's generator polynomial, degree 12: x¹²+x¹¹+x⁷+x⁶+x⁵+x⁴+x+1.
const CHECKSUM_POLYNOMIAL: u16 = 0b1_1000_1111_0011;
const CHECKSUM_BITS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YandexSecretError {
    #[error("a Yandex secret is 16 or 26 bytes, not {0}")]
    Length(usize),
    #[error("the Yandex secret's checksum does not match (mistyped?)")]
    Checksum,
}

/// The 16-byte key of a Yandex secret given as 16 bytes, or as 26 with its checksum checked.
pub fn yandex_secret(bytes: &[u8]) -> Result<Secret, YandexSecretError> {
    let key = match bytes.len() {
        YANDEX_SECRET_BYTES => bytes,
        YANDEX_FULL_SECRET_BYTES => {
            if checksum_of(bytes) != stored_checksum(bytes) {
                return Err(YandexSecretError::Checksum);
            }
            &bytes[..YANDEX_SECRET_BYTES]
        }
        other => return Err(YandexSecretError::Length(other)),
    };
    Secret::from_bytes(key.to_vec()).map_err(|_| YandexSecretError::Length(bytes.len()))
}

/// The 12 bits kept in the last two bytes of a 26-byte secret.
fn stored_checksum(full: &[u8]) -> u16 {
    let n = full.len();
    (u16::from(full[n - 2] & 0x0f) << 8) | u16::from(full[n - 1])
}

/// The remainder, modulo [`CHECKSUM_POLYNOMIAL`], of every bit before the checksum read as
/// one polynomial over GF(2), most significant bit first (a CRC without init or final xor).
fn checksum_of(full: &[u8]) -> u16 {
    let message_bits = full.len() * 8 - CHECKSUM_BITS;
    let mut remainder: u16 = 0;
    for i in 0..message_bits {
        let bit = (full[i / 8] >> (7 - i % 8)) & 1;
        remainder = (remainder << 1) | u16::from(bit);
        if remainder & (1 << CHECKSUM_BITS) != 0 {
            remainder ^= CHECKSUM_POLYNOMIAL;
        }
    }
    remainder
}

/// The HMAC key: SHA-256 of PIN and secret, without a leading zero byte.
fn derived_key(secret: &[u8], pin: &str) -> Zeroizing<Vec<u8>> {
    let mut hasher = Sha256::new();
    hasher.update(pin.as_bytes());
    hasher.update(secret);
    let digest = Zeroizing::new(hasher.finalize().to_vec());
    let start = usize::from(digest.first() == Some(&0));
    Zeroizing::new(digest[start..].to_vec())
}

/// The Yandex.Key code of time step `step` (unix time / 30).
pub fn yandex_code(secret: &[u8], pin: &str, step: u64) -> Code {
    let key = derived_key(secret, pin);
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&key) else {
        return Code::NONE;
    };
    mac.update(&step.to_be_bytes());
    let tag = mac.finalize().into_bytes();
    // The last nibble picks 8 bytes; 15 + 8 stays inside the 32-byte tag.
    let offset = usize::from(tag[tag.len() - 1] & 0x0f);
    let mut picked = [0u8; 8];
    picked.copy_from_slice(&tag[offset..offset + 8]);
    picked[0] &= 0x7f;
    let value = u64::from_be_bytes(picked) % 26u64.pow(u32::from(YANDEX_DIGITS));
    Code::from_alphabet_msb_first(value, b"abcdefghijklmnopqrstuvwxyz", YANDEX_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes_pass_and_other_lengths_fail() {
        assert!(yandex_secret(&[7u8; 16]).is_ok());
        assert_eq!(
            yandex_secret(&[7u8; 20]).unwrap_err(),
            YandexSecretError::Length(20)
        );
    }

    #[test]
    fn a_flipped_bit_breaks_the_checksum() {
        // Aegis's published vector secret (YAOTPTest.java), 26 bytes with its checksum.
        let full = data_encoding::BASE32_NOPAD
            .decode(b"LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI")
            .unwrap();
        assert_eq!(yandex_secret(&full).unwrap().expose(), &full[..16]);
        for byte in [0, 15, 20, 24, 25] {
            let mut broken = full.clone();
            broken[byte] ^= 0x01;
            assert_eq!(
                yandex_secret(&broken).unwrap_err(),
                YandexSecretError::Checksum,
                "byte {byte}"
            );
        }
    }
}
