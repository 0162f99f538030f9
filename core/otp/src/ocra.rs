//! OCRA, the OATH challenge-response algorithm (RFC 6287).
//!
//! `OCRA = HOTP truncation of HMAC(K, suite || 0x00 || C || Q || P || S || T)`.
//! Challenges longer than the suite's nominal `xx` are accepted up to the 128-byte Q field,
//! as the RFC's own mutual-authentication vectors require. Time steps accept any count of
//! seconds, minutes or hours, so a suite can name any TOTP period (`T45S`).

use data_encoding::{HEXLOWER_PERMISSIVE, HEXUPPER};
use zeroize::Zeroizing;

use crate::otp::MAX_DIGITS;
use crate::otp::{Algorithm, Code, hmac};

/// Size of the Q field in the data input.
const CHALLENGE_FIELD: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcraError {
    #[error("invalid OCRA suite: {0}")]
    InvalidSuite(&'static str),
    #[error("the challenge does not fit the suite's format ({0})")]
    InvalidChallenge(&'static str),
    #[error("the suite needs a {0} input that was not given")]
    MissingInput(&'static str),
    #[error("the PIN hash must be {expected} bytes")]
    PinHashLength { expected: usize },
    #[error("the session information must be {expected} bytes")]
    SessionLength { expected: usize },
}

/// How the challenge question is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeFormat {
    /// `QA`: printable text, its bytes are used.
    Alphanumeric,
    /// `QN`: a decimal number, converted to its big-endian bytes.
    Numeric,
    /// `QH`: hexadecimal.
    Hex,
}

/// A parsed OCRA suite such as `OCRA-1:HOTP-SHA512-8:QN08-T1M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    text: String,
    pub algorithm: Algorithm,
    pub digits: u8,
    pub counter: bool,
    pub challenge_format: ChallengeFormat,
    pub challenge_max: u8,
    /// Hash of the PIN, when the suite includes one (`PSHA1` …).
    pub pin_hash: Option<Algorithm>,
    /// Length in bytes of session information (`S064`).
    pub session_len: Option<u16>,
    /// Time step in seconds (`T30S`, `T1M`, `T1H`).
    pub time_step: Option<u64>,
}

/// The inputs a suite may ask for.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub counter: Option<u64>,
    /// The challenge, written in the suite's format.
    pub challenge: &'a str,
    pub pin_hash: Option<&'a [u8]>,
    pub session: Option<&'a [u8]>,
    /// The number of time steps, T = floor(unix time / step).
    pub time_steps: Option<u64>,
}

fn parse_two_digits(text: &str) -> Option<u8> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The data-input fields after the question: `P`, `S` and `T`, each optional, in that order.
#[derive(Default)]
struct OptionalFields {
    pin_hash: Option<Algorithm>,
    session_len: Option<u16>,
    time_step: Option<u64>,
}

const FIELD_ORDER: OcraError = OcraError::InvalidSuite("fields must be in the order C, Q, P, S, T");

impl OptionalFields {
    fn parse<'a>(fields: impl Iterator<Item = &'a str>) -> Result<OptionalFields, OcraError> {
        let mut found = OptionalFields::default();
        for field in fields {
            if let Some(hash) = field.strip_prefix('P') {
                if found.pin_hash.is_some()
                    || found.session_len.is_some()
                    || found.time_step.is_some()
                {
                    return Err(FIELD_ORDER);
                }
                found.pin_hash = Some(Algorithm::from_name(hash).ok_or(
                    OcraError::InvalidSuite("PIN hash must be SHA1, SHA256 or SHA512"),
                )?);
            } else if let Some(len) = field.strip_prefix('S') {
                if found.session_len.is_some() || found.time_step.is_some() {
                    return Err(FIELD_ORDER);
                }
                found.session_len = Some(session_length(len)?);
            } else if let Some(step) = field.strip_prefix('T') {
                if found.time_step.is_some() {
                    return Err(OcraError::InvalidSuite("only one time step field"));
                }
                found.time_step = Some(time_step_seconds(step)?);
            } else {
                return Err(OcraError::InvalidSuite("unknown data input field"));
            }
        }
        Ok(found)
    }
}

/// `Snnn`: three digits, not zero.
fn session_length(digits: &str) -> Result<u16, OcraError> {
    (digits.len() == 3)
        .then(|| digits.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
        .ok_or(OcraError::InvalidSuite(
            "session length must be three digits",
        ))
}

/// `T<count><S|M|H>` in seconds; the count is 1 to 1,000,000.
fn time_step_seconds(step: &str) -> Result<u64, OcraError> {
    let (count, unit) = step.split_at(step.len().saturating_sub(1));
    let unit_seconds = match unit {
        "S" => 1,
        "M" => 60,
        "H" => 3600,
        _ => return Err(OcraError::InvalidSuite("time step unit must be S, M or H")),
    };
    let count: u64 = count
        .parse()
        .ok()
        .filter(|n| *n > 0 && *n <= 1_000_000)
        .ok_or(OcraError::InvalidSuite(
            "time step must be a positive number",
        ))?;
    Ok(count * unit_seconds)
}

/// `HOTP-SHAx-t`: the hash and the number of digits.
fn crypto_function(crypto: &str) -> Result<(Algorithm, u8), OcraError> {
    let mut crypto_parts = crypto.split('-');
    let (Some("HOTP"), Some(hash), Some(digits), None) = (
        crypto_parts.next(),
        crypto_parts.next(),
        crypto_parts.next(),
        crypto_parts.next(),
    ) else {
        return Err(OcraError::InvalidSuite(
            "crypto function must be HOTP-SHAx-t",
        ));
    };
    let algorithm = Algorithm::from_name(hash)
        .filter(|_| !hash.contains('-'))
        .ok_or(OcraError::InvalidSuite(
            "hash must be SHA1, SHA256 or SHA512",
        ))?;
    let digits: u8 = digits
        .parse()
        .ok()
        .filter(|d| (4..=MAX_DIGITS).contains(d))
        .ok_or(OcraError::InvalidSuite("truncation must be 4 to 10 digits"))?;
    Ok((algorithm, digits))
}

/// `Qxx`: the challenge format and its nominal length (04 to 64).
fn question(field: Option<&str>) -> Result<(ChallengeFormat, u8), OcraError> {
    const MISSING: OcraError = OcraError::InvalidSuite("a challenge field Qxx is required");
    let field = field.ok_or(MISSING)?;
    let (format, max) = match field.get(..2) {
        Some("QA") => (ChallengeFormat::Alphanumeric, &field[2..]),
        Some("QN") => (ChallengeFormat::Numeric, &field[2..]),
        Some("QH") => (ChallengeFormat::Hex, &field[2..]),
        _ => return Err(MISSING),
    };
    let max = parse_two_digits(max)
        .filter(|n| (4..=64).contains(n))
        .ok_or(OcraError::InvalidSuite("challenge length must be 04 to 64"))?;
    Ok((format, max))
}

impl Suite {
    pub fn parse(text: &str) -> Result<Suite, OcraError> {
        let mut parts = text.split(':');
        let (Some(version), Some(crypto), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OcraError::InvalidSuite(
                "expected three parts separated by ':'",
            ));
        };
        if version != "OCRA-1" {
            return Err(OcraError::InvalidSuite("only OCRA-1 is defined"));
        }
        let (algorithm, digits) = crypto_function(crypto)?;
        let mut fields = data.split('-').peekable();
        let counter = fields.next_if_eq(&"C").is_some();
        let (challenge_format, challenge_max) = question(fields.next())?;
        let optional = OptionalFields::parse(fields)?;
        Ok(Suite {
            text: text.to_owned(),
            algorithm,
            digits,
            counter,
            challenge_format,
            challenge_max,
            pin_hash: optional.pin_hash,
            session_len: optional.session_len,
            time_step: optional.time_step,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Builds the data input and computes the response.
    pub fn compute(&self, key: &[u8], inputs: &Inputs<'_>) -> Result<Code, OcraError> {
        let mut message = Zeroizing::new(Vec::with_capacity(self.text.len() + 1 + 8 + 128 + 64));
        message.extend_from_slice(self.text.as_bytes());
        message.push(0);
        if self.counter {
            let counter = inputs.counter.ok_or(OcraError::MissingInput("counter"))?;
            message.extend_from_slice(&counter.to_be_bytes());
        }
        let mut challenge = encode_challenge(self.challenge_format, inputs.challenge)?;
        challenge.resize(CHALLENGE_FIELD, 0);
        message.extend_from_slice(&challenge);
        if let Some(algorithm) = self.pin_hash {
            let hash = inputs.pin_hash.ok_or(OcraError::MissingInput("PIN hash"))?;
            if hash.len() != algorithm.output_len() {
                return Err(OcraError::PinHashLength {
                    expected: algorithm.output_len(),
                });
            }
            message.extend_from_slice(hash);
        }
        if let Some(len) = self.session_len {
            let session = inputs.session.ok_or(OcraError::MissingInput("session"))?;
            if session.len() != usize::from(len) {
                return Err(OcraError::SessionLength {
                    expected: usize::from(len),
                });
            }
            message.extend_from_slice(session);
        }
        if self.time_step.is_some() {
            let steps = inputs.time_steps.ok_or(OcraError::MissingInput("time"))?;
            message.extend_from_slice(&steps.to_be_bytes());
        }
        let mac = hmac(self.algorithm, key, &message);
        Ok(crate::otp::decimal_code_of(mac.as_bytes(), self.digits))
    }
}

/// The challenge's bytes before right-padding with zeros to 128 bytes.
fn encode_challenge(format: ChallengeFormat, challenge: &str) -> Result<Vec<u8>, OcraError> {
    if challenge.is_empty() {
        return Err(OcraError::InvalidChallenge("empty"));
    }
    let bytes = match format {
        ChallengeFormat::Alphanumeric => challenge.as_bytes().to_vec(),
        ChallengeFormat::Hex => hex_left_aligned(challenge)?,
        ChallengeFormat::Numeric => {
            if !challenge.bytes().all(|b| b.is_ascii_digit()) {
                return Err(OcraError::InvalidChallenge(
                    "numeric challenges are decimal digits",
                ));
            }
            hex_left_aligned(&decimal_to_hex(challenge))?
        }
    };
    if bytes.len() > CHALLENGE_FIELD {
        return Err(OcraError::InvalidChallenge("longer than 128 bytes"));
    }
    Ok(bytes)
}

/// Hex digits to bytes; an odd final digit fills the high nibble (the RFC pads the hex
/// string on the right with zeros before converting).
fn hex_left_aligned(hex: &str) -> Result<Vec<u8>, OcraError> {
    let mut padded = hex.to_owned();
    if padded.len() % 2 == 1 {
        padded.push('0');
    }
    HEXLOWER_PERMISSIVE
        .decode(padded.as_bytes())
        .map_err(|_| OcraError::InvalidChallenge("hex challenges are hexadecimal digits"))
}

/// A decimal number of any length written in hexadecimal (uppercase, no leading zeros;
/// "0" for zero): its big-endian bytes, by repeated division of the decimal digits by 256,
/// hex-encoded.
fn decimal_to_hex(decimal: &str) -> String {
    let mut digits: Vec<u8> = decimal.bytes().map(|b| b - b'0').collect();
    let mut bytes = Vec::new();
    while digits.iter().any(|d| *d != 0) {
        let mut remainder = 0u32;
        for d in digits.iter_mut() {
            let value = remainder * 10 + u32::from(*d);
            *d = (value / 256) as u8;
            remainder = value % 256;
        }
        bytes.push(remainder as u8);
    }
    bytes.reverse();
    let hex = HEXUPPER.encode(&bytes);
    // The most significant byte may be below 0x10: its leading zero digit is not written.
    match hex.strip_prefix('0') {
        Some(rest) => rest.to_owned(),
        None if hex.is_empty() => "0".to_owned(),
        None => hex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_to_hex_matches_integer_formatting() {
        for n in [0u64, 1, 15, 16, 255, 12345678, 99999999, u64::MAX] {
            assert_eq!(decimal_to_hex(&n.to_string()), format!("{n:X}"));
        }
        // Beyond u64: 2^64 and 2^68 + 1, written out by hand.
        assert_eq!(decimal_to_hex("18446744073709551616"), "10000000000000000");
        assert_eq!(
            decimal_to_hex("295147905179352825857"),
            "100000000000000001"
        );
        assert_eq!(decimal_to_hex("0000"), "0");
    }

    #[test]
    fn hex_challenges_are_left_aligned_in_either_case() {
        assert_eq!(hex_left_aligned("ABC").ok(), Some(vec![0xAB, 0xC0]));
        assert_eq!(hex_left_aligned("abc").ok(), Some(vec![0xAB, 0xC0]));
        assert_eq!(hex_left_aligned("0f1E").ok(), Some(vec![0x0F, 0x1E]));
        assert_eq!(hex_left_aligned("").ok(), Some(vec![]));
        for bad in ["G", "+f", "1 2", "é0"] {
            assert!(hex_left_aligned(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn suites_outside_the_grammar_are_rejected() {
        for bad in [
            "OCRA-2:HOTP-SHA1-6:QN08",
            "OCRA-1:HOTP-MD5-6:QN08",
            "OCRA-1:HOTP-SHA1-3:QN08",
            "OCRA-1:HOTP-SHA1-6:QX08",
            "OCRA-1:HOTP-SHA1-6:QN99",
            "OCRA-1:HOTP-SHA1-6:QN08-T1X",
            "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
            "OCRA-1:HOTP-SHA1-6",
            "",
        ] {
            assert!(Suite::parse(bad).is_err(), "{bad}");
        }
    }
}
