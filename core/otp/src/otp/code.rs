use std::fmt;

use subtle::ConstantTimeEq;

/// A one-time code: up to 10 ASCII characters, kept on the stack (no allocation per code).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    bytes: [u8; 10],
    len: u8,
}

impl Code {
    /// A code that matches nothing: stands in where no code could be computed.
    pub(crate) const NONE: Code = Code {
        bytes: [0; 10],
        len: 0,
    };

    /// `value` zero-padded to `digits` decimal digits. `digits` is at most 10.
    pub(crate) fn decimal(value: u64, digits: u8) -> Code {
        debug_assert!((1..=10).contains(&digits));
        let mut bytes = [b'0'; 10];
        let mut rest = value;
        for slot in bytes[..digits as usize].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Code { bytes, len: digits }
    }

    /// Characters taken least significant first from `alphabet`, as Steam Guard does.
    pub(crate) fn from_alphabet(mut value: u32, alphabet: &[u8], len: u8) -> Code {
        let radix = alphabet.len() as u32;
        let mut bytes = [0u8; 10];
        for slot in bytes[..len as usize].iter_mut() {
            *slot = alphabet[(value % radix) as usize];
            value /= radix;
        }
        Code { bytes, len }
    }

    /// `value` written in `alphabet`, most significant character first, `len` characters
    /// (Yandex.Key's letters).
    pub(crate) fn from_alphabet_msb_first(mut value: u64, alphabet: &[u8], len: u8) -> Code {
        let radix = alphabet.len() as u64;
        let mut bytes = [0u8; 10];
        for slot in bytes[..usize::from(len.min(10))].iter_mut().rev() {
            *slot = alphabet[(value % radix) as usize];
            value /= radix;
        }
        Code {
            bytes,
            len: len.min(10),
        }
    }

    /// The first (at most 10) characters of an ASCII text (mOTP's hex digest).
    pub(crate) fn from_ascii(text: &[u8]) -> Code {
        let len = text.len().min(10);
        let mut bytes = [0u8; 10];
        bytes[..len].copy_from_slice(&text[..len]);
        Code {
            bytes,
            len: len as u8,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits or alphabet letters are ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Compares with a code a user typed, in time independent of where they differ.
    /// Spaces and dashes that apps insert for readability ("123 456") are ignored, and so is
    /// case: Steam codes are shown in capitals, Yandex.Key and mOTP codes in small letters.
    pub fn matches(&self, typed: &str) -> bool {
        if self.len == 0 {
            return false;
        }
        let mut cleaned = [0u8; 10];
        let mut n = 0usize;
        for b in typed.bytes() {
            if b == b' ' || b == b'-' {
                continue;
            }
            if n == cleaned.len() {
                return false;
            }
            cleaned[n] = b.to_ascii_uppercase();
            n += 1;
        }
        let mut own = self.bytes;
        own.make_ascii_uppercase();
        n == self.len() && bool::from(cleaned[..n].ct_eq(&own[..n]))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    // A code is short-lived but still a credential: keep it out of debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code(<{} characters>)", self.len)
    }
}
