//! The PIN that Yandex.Key and mOTP accounts mix into every code.
//!
//! For those two kinds the secret alone does not make a code: the PIN the user chose at
//! enrolment is hashed in with it. So the PIN is secret material exactly like the key — kept
//! zeroized, compared in constant time, never printed — and travels with the account.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Longest PIN accepted, in bytes of UTF-8. Yandex.Key PINs are 4 to 16 digits and mOTP
/// PINs 4 digits; the margin takes apps that allow longer ones without a length attack.
pub const MAX_PIN_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    #[error("the PIN is empty")]
    Empty,
    #[error("the PIN is longer than {MAX_PIN_BYTES} bytes")]
    TooLong,
    #[error("the PIN contains a control character")]
    ControlCharacter,
}

/// A PIN of a Yandex.Key or mOTP account: non-empty printable text, at most [`MAX_PIN_BYTES`].
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(text: &str) -> Result<Pin, PinError> {
        if text.is_empty() {
            return Err(PinError::Empty);
        }
        if text.len() > MAX_PIN_BYTES {
            return Err(PinError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(PinError::ControlCharacter);
        }
        Ok(Pin(Zeroizing::new(text.to_owned())))
    }

    /// The PIN's text. Named so every use stands out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Pin {
    fn eq(&self, other: &Pin) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

impl Eq for Pin {}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_redaction() {
        assert_eq!(Pin::new("").unwrap_err(), PinError::Empty);
        assert_eq!(
            Pin::new(&"1".repeat(MAX_PIN_BYTES + 1)).unwrap_err(),
            PinError::TooLong
        );
        assert_eq!(Pin::new("12\n4").unwrap_err(), PinError::ControlCharacter);
        let pin = Pin::new("5239").unwrap();
        assert_eq!(pin.expose(), "5239");
        assert!(!format!("{pin:?}").contains("5239"));
        assert_eq!(pin, Pin::new("5239").unwrap());
        assert_ne!(pin, Pin::new("52390").unwrap());
    }
}
