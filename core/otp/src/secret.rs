//! Shared secrets: decoded leniently from base32, zeroized on drop, never printed.

use std::fmt;
use std::sync::LazyLock;

use data_encoding::{Encoding, Specification};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Below this many bits a secret is reported as weak (RFC 4226 section 4 requires 128 and
/// recommends 160), but still accepted: many services issue 80-bit secrets.
pub const RECOMMENDED_MIN_BITS: usize = 128;

/// Upper bound on a secret's size; anything larger is not an OTP secret.
pub const MAX_SECRET_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    #[error("the secret is not valid base32 (character {position} is not in A-Z, 2-7)")]
    InvalidCharacter { position: usize },
    #[error("the secret is not valid base32 (a length of {length} characters is impossible)")]
    InvalidLength { length: usize },
    #[error("the secret is longer than {MAX_SECRET_BYTES} bytes")]
    TooLong,
}

/// Unpadded RFC 4648 base32 that ignores non-zero trailing bits, as authenticator apps do.
static BASE32_LENIENT: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    spec.encoding()
        .unwrap_or_else(|_| data_encoding::BASE32_NOPAD.clone())
});

/// An OTP shared secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, SecretError> {
        let secret = Secret(bytes);
        if secret.0.is_empty() {
            return Err(SecretError::Empty);
        }
        if secret.0.len() > MAX_SECRET_BYTES {
            return Err(SecretError::TooLong);
        }
        Ok(secret)
    }

    /// Decodes base32 as users and services write it: any case, spaces, dashes and `=`
    /// padding are accepted.
    pub fn from_base32(text: &str) -> Result<Secret, SecretError> {
        let mut cleaned = Zeroizing::new(String::with_capacity(text.len()));
        for c in text.chars() {
            match c {
                ' ' | '-' | '\t' | '\n' | '\r' => {}
                c => cleaned.push(c.to_ascii_uppercase()),
            }
        }
        let trimmed = cleaned.trim_end_matches('=');
        if trimmed.is_empty() {
            return Err(SecretError::Empty);
        }
        if trimmed.len() > MAX_SECRET_BYTES * 8 / 5 + 1 {
            return Err(SecretError::TooLong);
        }
        if let Some(position) = trimmed
            .bytes()
            .position(|b| !(b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)))
        {
            return Err(SecretError::InvalidCharacter { position });
        }
        let decoded =
            BASE32_LENIENT
                .decode(trimmed.as_bytes())
                .map_err(|_| SecretError::InvalidLength {
                    length: trimmed.len(),
                })?;
        Secret::from_bytes(decoded)
    }

    /// Random secret of `bytes` bytes from the operating system's generator.
    pub fn generate(bytes: usize) -> Secret {
        let mut buf = vec![0u8; bytes.clamp(1, MAX_SECRET_BYTES)];
        rand::fill(&mut buf[..]);
        Secret(buf)
    }

    /// Unpadded uppercase base32, the form otpauth URIs carry.
    pub fn to_base32(&self) -> String {
        BASE32_LENIENT.encode(&self.0)
    }

    /// The raw key. Named so every use stands out in review.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }

    pub fn is_weak(&self) -> bool {
        self.bits() < RECOMMENDED_MIN_BITS
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bits, redacted>)", self.bits())
    }
}
