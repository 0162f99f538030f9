//! An enrolled account: who it is for, its secret, and how its codes are made.

use serde::{Deserialize, Serialize};

use crate::otp::{
    self, Algorithm, Code, HotpMatch, MAX_DIGITS, MIN_DIGITS, MOTP_DIGITS, MOTP_PERIOD,
    STEAM_DIGITS, STEAM_PERIOD, TotpMatch, Window, YANDEX_DIGITS, YANDEX_PERIOD,
};
use crate::pin::Pin;
use crate::secret::Secret;

/// Counter or clock based, and the clock-based variants with their own construction:
/// Steam Guard, Yandex.Key and mOTP (the last two also hash in the account's [`Pin`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OtpKind {
    Totp {
        period: u32,
    },
    Hotp {
        counter: u64,
    },
    Steam,
    /// Yandex.Key: HMAC-SHA-256 under a key hashed from PIN and secret, 8 letters, 30 s.
    Yandex,
    /// Mobile-OTP: MD5 of time, secret and PIN, 6 hex characters, 10 s.
    Motp,
}

impl OtpKind {
    /// Whether codes of this kind need the account's PIN (Yandex.Key and mOTP).
    pub fn uses_pin(self) -> bool {
        matches!(self, OtpKind::Yandex | OtpKind::Motp)
    }

    /// The lowercase name apps and URIs use: `totp`, `hotp`, `steam`, `yandex`, `motp`.
    pub fn name(self) -> &'static str {
        match self {
            OtpKind::Totp { .. } => "totp",
            OtpKind::Hotp { .. } => "hotp",
            OtpKind::Steam => "steam",
            OtpKind::Yandex => "yandex",
            OtpKind::Motp => "motp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterError {
    #[error("digits must be between {MIN_DIGITS} and {MAX_DIGITS}, not {0}")]
    DigitsOutOfRange(u32),
    #[error("the period must be at least 1 second")]
    ZeroPeriod,
}

/// How an account's codes are computed. Always valid: constructed only through checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OtpParameters {
    algorithm: Algorithm,
    digits: u8,
    kind: OtpKind,
}

impl OtpParameters {
    pub fn totp(algorithm: Algorithm, digits: u32, period: u32) -> Result<Self, ParameterError> {
        if period == 0 {
            return Err(ParameterError::ZeroPeriod);
        }
        Ok(OtpParameters {
            algorithm,
            digits: check_digits(digits)?,
            kind: OtpKind::Totp { period },
        })
    }

    pub fn hotp(algorithm: Algorithm, digits: u32, counter: u64) -> Result<Self, ParameterError> {
        Ok(OtpParameters {
            algorithm,
            digits: check_digits(digits)?,
            kind: OtpKind::Hotp { counter },
        })
    }

    /// Steam Guard: SHA-1, 30 seconds, 5 characters; nothing to choose.
    pub fn steam() -> Self {
        OtpParameters {
            algorithm: Algorithm::Sha1,
            digits: STEAM_DIGITS,
            kind: OtpKind::Steam,
        }
    }

    /// Yandex.Key: HMAC-SHA-256, 8 letters, 30 seconds; nothing to choose.
    pub fn yandex() -> Self {
        OtpParameters {
            algorithm: Algorithm::Sha256,
            digits: YANDEX_DIGITS,
            kind: OtpKind::Yandex,
        }
    }

    /// mOTP: MD5 (not an HMAC: [`Self::algorithm`] does not apply, see
    /// [`Self::algorithm_name`]), 6 hex characters, 10 seconds; nothing to choose.
    pub fn motp() -> Self {
        OtpParameters {
            algorithm: Algorithm::Sha1,
            digits: MOTP_DIGITS,
            kind: OtpKind::Motp,
        }
    }

    /// Google Authenticator's defaults: SHA-1, 6 digits, 30 seconds.
    pub fn default_totp() -> Self {
        OtpParameters {
            algorithm: Algorithm::Sha1,
            digits: 6,
            kind: OtpKind::Totp { period: 30 },
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hash as apps name it: the HMAC's (`SHA1`, `SHA256`, `SHA512`), or `MD5` for mOTP.
    pub fn algorithm_name(&self) -> &'static str {
        match self.kind {
            OtpKind::Motp => "MD5",
            _ => self.algorithm.name(),
        }
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    pub fn kind(&self) -> OtpKind {
        self.kind
    }

    /// Seconds per code for time-based kinds; `None` for HOTP.
    pub fn period(&self) -> Option<u32> {
        match self.kind {
            OtpKind::Totp { period } => Some(period),
            OtpKind::Steam => Some(STEAM_PERIOD),
            OtpKind::Yandex => Some(YANDEX_PERIOD),
            OtpKind::Motp => Some(MOTP_PERIOD),
            OtpKind::Hotp { .. } => None,
        }
    }

    /// The stored HOTP counter; `None` for time-based kinds.
    pub fn counter(&self) -> Option<u64> {
        match self.kind {
            OtpKind::Hotp { counter } => Some(counter),
            _ => None,
        }
    }

    /// The same parameters with the HOTP counter moved; time-based kinds are unchanged.
    pub fn with_counter(self, counter: u64) -> Self {
        match self.kind {
            OtpKind::Hotp { .. } => OtpParameters {
                kind: OtpKind::Hotp { counter },
                ..self
            },
            _ => self,
        }
    }
}

fn check_digits(digits: u32) -> Result<u8, ParameterError> {
    if (u32::from(MIN_DIGITS)..=u32::from(MAX_DIGITS)).contains(&digits) {
        Ok(digits as u8)
    } else {
        Err(ParameterError::DigitsOutOfRange(digits))
    }
}

/// A code together with how long it stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedCode {
    pub code: Code,
    /// The time step (TOTP, Steam) or counter (HOTP) the code belongs to.
    pub step: u64,
    /// Seconds until the next code for time-based kinds; `None` for HOTP.
    pub seconds_remaining: Option<u32>,
}

/// An account in an authenticator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The service, e.g. "GitHub". `None` when the enrolment did not say.
    pub issuer: Option<String>,
    /// The account at that service, e.g. "alice@example.com".
    pub label: String,
    pub secret: Secret,
    pub params: OtpParameters,
    /// The PIN hashed into Yandex.Key and mOTP codes; `None` for the other kinds. Without
    /// it those kinds make no code (see [`Account::code_for_step`]).
    pub pin: Option<Pin>,
}

impl Account {
    pub fn new(
        issuer: Option<String>,
        label: impl Into<String>,
        secret: Secret,
        params: OtpParameters,
    ) -> Account {
        Account {
            issuer,
            label: label.into(),
            secret,
            params,
            pin: None,
        }
    }

    /// The same account with the PIN its kind hashes in (Yandex.Key, mOTP).
    pub fn with_pin(self, pin: Pin) -> Account {
        Account {
            pin: Some(pin),
            ..self
        }
    }

    /// The code of one time step or counter value. A Yandex.Key or mOTP account without
    /// its PIN has no code: the result is empty and matches nothing.
    pub fn code_for_step(&self, step: u64) -> Code {
        let key = self.secret.expose();
        let pin = self.pin.as_ref().map(Pin::expose);
        match (self.params.kind, pin) {
            (OtpKind::Steam, _) => otp::steam_code(key, step),
            (OtpKind::Yandex, Some(pin)) => otp::yandex_code(key, pin, step),
            (OtpKind::Motp, Some(pin)) => otp::motp_code(key, pin, step),
            (OtpKind::Yandex | OtpKind::Motp, None) => Code::NONE,
            (OtpKind::Totp { .. } | OtpKind::Hotp { .. }, _) => {
                otp::hotp_code(self.params.algorithm, key, step, self.params.digits)
            }
        }
    }

    /// The code to show at `unix_time`. For HOTP this is the code of the stored counter;
    /// the caller must persist the incremented counter before showing it.
    pub fn code_at(&self, unix_time: u64) -> TimedCode {
        match (self.params.kind, self.params.period()) {
            (OtpKind::Hotp { counter }, _) => TimedCode {
                code: self.code_for_step(counter),
                step: counter,
                seconds_remaining: None,
            },
            (_, period) => {
                let period = period.unwrap_or(STEAM_PERIOD);
                let step = otp::totp_step(unix_time, period);
                TimedCode {
                    code: self.code_for_step(step),
                    step,
                    seconds_remaining: Some(period - (unix_time % u64::from(period)) as u32),
                }
            }
        }
    }

    /// Verifies a time-based code (TOTP or Steam); `None` for HOTP accounts or no match.
    pub fn verify_totp(
        &self,
        typed: &str,
        unix_time: u64,
        window: Window,
        last_used_step: Option<u64>,
    ) -> Option<TotpMatch> {
        let period = match self.params.kind {
            OtpKind::Hotp { .. } => return None,
            _ => self.params.period()?,
        };
        otp::verify_totp(typed, unix_time, period, window, last_used_step, |step| {
            self.code_for_step(step)
        })
    }

    /// Verifies an HOTP code from the stored counter on; `None` for time-based accounts.
    pub fn verify_hotp(&self, typed: &str, look_ahead: u32) -> Option<HotpMatch> {
        let counter = self.params.counter()?;
        otp::verify_hotp(typed, counter, look_ahead, |c| self.code_for_step(c))
    }

    /// Re-anchors an HOTP counter from two consecutive codes.
    pub fn resync_hotp(&self, first: &str, second: &str, search: u32) -> Option<HotpMatch> {
        let counter = self.params.counter()?;
        otp::resync_hotp(first, second, counter, search, |c| self.code_for_step(c))
    }

    /// "Issuer (label)" or the label alone, for display.
    pub fn display_name(&self) -> String {
        match &self.issuer {
            Some(issuer) if !issuer.is_empty() => format!("{issuer} ({})", self.label),
            _ => self.label.clone(),
        }
    }
}
