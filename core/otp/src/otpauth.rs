//! `otpauth://` URIs, Google's Key URI Format: `otpauth://TYPE/LABEL?PARAMETERS`.
//!
//! Rules beyond Google's document (also in docs/otpauth.md):
//! - The label is split at its first literal `:`, or failing that its first `%3A`, into
//!   issuer prefix and account name; spaces around both are trimmed.
//! - When the `issuer` parameter and the label prefix disagree, the parameter wins (Google:
//!   "the issuer parameter is preferred"), the account name is the text after the prefix, and
//!   a [`Warning::IssuerMismatch`] carries both so an app can show them.
//! - Steam Guard: type `steam`, or type `totp` with issuer `Steam` (any case) and no digits
//!   other than 5, or the parameter `encoder=steam`.
//! - Yandex.Key: type `yaotp` (Aegis's form; `yandex` too), a base32 secret of 16 bytes or
//!   26 with its checksum, and the PIN in `pin` as base32 of its UTF-8 (as Aegis writes it).
//! - mOTP: `motp://ISSUER:NAME?secret=HEX&pin=PIN` (multiOTP's and Authenticator Pro's form,
//!   secret in hex, PIN as text), or `otpauth://motp/…` with a base32 secret.
//! - Both PIN kinds need the PIN: a URI without one is refused ([`UriError::MissingPin`]),
//!   since no code can be made from it (docs/formats/otp-kinds.md).

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Serialize;

use crate::account::{Account, OtpKind, OtpParameters, ParameterError};
use crate::otp::{Algorithm, STEAM_DIGITS, YandexSecretError, yandex_secret};
use crate::pin::{Pin, PinError};
use crate::secret::{Secret, SecretError};

/// Longest URI accepted: far beyond any real enrolment QR code (QR version 40 holds 2953
/// bytes), small enough that parsing stays cheap, and large enough that every account this
/// parser accepts can be written back out by [`to_uri`] (fields are capped below).
pub const MAX_URI_LEN: usize = 16384;

/// Longest issuer or account name, in bytes of UTF-8.
pub const MAX_FIELD_BYTES: usize = 512;

/// Everything except RFC 3986's unreserved characters is percent-encoded (also the migration
/// URI's `data` parameter).
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    #[error("not a URI (no \"scheme://\")")]
    NotAUri,
    #[error("the URI scheme is \"{found}\", expected otpauth or motp")]
    WrongScheme { found: String },
    #[error("unsupported OTP type \"{found}\" (expected totp, hotp, steam, yaotp or motp)")]
    UnsupportedType { found: String },
    #[error("the URI has no secret parameter")]
    MissingSecret,
    #[error("bad secret: {0}")]
    InvalidSecret(#[from] SecretError),
    #[error("bad secret: {0}")]
    InvalidYandexSecret(#[from] YandexSecretError),
    #[error("bad secret: an mOTP secret is written in hexadecimal")]
    InvalidHexSecret,
    #[error("this {kind} URI carries no PIN, and its codes are made from the PIN")]
    MissingPin { kind: &'static str },
    #[error("bad PIN: {0}")]
    InvalidPin(#[from] PinError),
    #[error("the pin parameter of a yaotp URI is not base32 of UTF-8 text")]
    InvalidPinEncoding,
    #[error("unsupported algorithm \"{found}\" (expected SHA1, SHA256 or SHA512)")]
    UnsupportedAlgorithm { found: String },
    #[error("digits \"{found}\" is not a number")]
    InvalidDigits { found: String },
    #[error("{0}")]
    InvalidParameters(#[from] ParameterError),
    #[error("period \"{found}\" is not a whole number of seconds ≥ 1")]
    InvalidPeriod { found: String },
    #[error("an hotp URI needs a counter parameter")]
    MissingCounter,
    #[error("counter \"{found}\" is not a whole number ≥ 0")]
    InvalidCounter { found: String },
    #[error("the label is not valid percent-encoded UTF-8")]
    InvalidLabelEncoding,
    #[error("the parameter \"{name}\" appears more than once")]
    DuplicateParameter { name: String },
    #[error("the URI is longer than {MAX_URI_LEN} characters")]
    TooLong,
    #[error("the {field} is longer than {MAX_FIELD_BYTES} bytes")]
    FieldTooLong { field: &'static str },
}

/// Something accepted but worth telling the user about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum Warning {
    /// The secret has fewer than 128 bits.
    WeakSecret { bits: usize },
    /// The label's issuer prefix differs from the issuer parameter; the parameter was used.
    IssuerMismatch {
        label_issuer: String,
        parameter_issuer: String,
    },
    /// A parameter this format does not use (e.g. `image`) was ignored.
    IgnoredParameter { name: String },
}

/// An account read from a URI, with what was noticed on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAccount {
    pub account: Account,
    pub warnings: Vec<Warning>,
}

/// Keeps error messages short when they echo user input.
fn excerpt(text: &str) -> String {
    text.chars().take(32).collect()
}

fn decode_label_part(raw: &str) -> Result<String, UriError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.trim().to_owned())
        .map_err(|_| UriError::InvalidLabelEncoding)
}

/// Splits a raw label at its first literal `:` or, failing that, its first `%3A`.
fn split_label(raw: &str) -> (Option<&str>, &str) {
    if let Some(i) = raw.find(':') {
        return (Some(&raw[..i]), &raw[i + 1..]);
    }
    let lower = raw.to_ascii_lowercase();
    match lower.find("%3a") {
        Some(i) => (Some(&raw[..i]), &raw[i + 3..]),
        None => (None, raw),
    }
}

#[derive(Default)]
struct Query<'a> {
    secret: Option<Cow<'a, str>>,
    issuer: Option<Cow<'a, str>>,
    algorithm: Option<Cow<'a, str>>,
    digits: Option<Cow<'a, str>>,
    period: Option<Cow<'a, str>>,
    counter: Option<Cow<'a, str>>,
    encoder: Option<Cow<'a, str>>,
    pin: Option<Cow<'a, str>>,
}

fn parse_query<'a>(query: &'a str, warnings: &mut Vec<Warning>) -> Result<Query<'a>, UriError> {
    let mut q = Query::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.to_ascii_lowercase().as_str() {
            "secret" => &mut q.secret,
            "issuer" => &mut q.issuer,
            "algorithm" => &mut q.algorithm,
            "digits" => &mut q.digits,
            "period" => &mut q.period,
            "counter" => &mut q.counter,
            "encoder" => &mut q.encoder,
            "pin" => &mut q.pin,
            _ => {
                warnings.push(Warning::IgnoredParameter {
                    name: excerpt(&name),
                });
                continue;
            }
        };
        if slot.is_some() {
            return Err(UriError::DuplicateParameter {
                name: excerpt(&name),
            });
        }
        *slot = Some(value);
    }
    Ok(q)
}

/// Parses an `otpauth://` URI into an account.
pub fn parse(uri: &str) -> Result<ParsedAccount, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong);
    }
    let (scheme, otp_type, raw_label, query) = split_uri(uri.trim())?;
    let mut warnings = Vec::new();
    let q = parse_query(query, &mut warnings)?;
    let (issuer, label) = issuer_and_label(raw_label, q.issuer.as_deref(), &mut warnings)?;

    let otp_type = otp_type.to_ascii_lowercase();
    let params = parameters(&otp_type, issuer.as_deref(), &q, &mut warnings)?;
    let secret = secret_of(scheme, params.kind(), &q)?;
    if secret.is_weak() {
        warnings.push(Warning::WeakSecret {
            bits: secret.bits(),
        });
    }
    let pin = pin_of(params.kind(), &q)?;

    if label.len() > MAX_FIELD_BYTES {
        return Err(UriError::FieldTooLong {
            field: "account name",
        });
    }
    if issuer.as_ref().is_some_and(|i| i.len() > MAX_FIELD_BYTES) {
        return Err(UriError::FieldTooLong { field: "issuer" });
    }
    let account = Account::new(issuer, label, secret, params);
    Ok(ParsedAccount {
        account: match pin {
            Some(pin) => account.with_pin(pin),
            None => account,
        },
        warnings,
    })
}

/// The secret: hex for `motp://`, base32 otherwise; a Yandex secret's checksum checked.
fn secret_of(scheme: Scheme, kind: OtpKind, q: &Query<'_>) -> Result<Secret, UriError> {
    let text = q.secret.as_deref().ok_or(UriError::MissingSecret)?;
    match (scheme, kind) {
        (Scheme::Motp, _) => {
            let cleaned: zeroize::Zeroizing<String> =
                zeroize::Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
            let bytes = data_encoding::HEXLOWER_PERMISSIVE
                .decode(cleaned.as_bytes())
                .map_err(|_| UriError::InvalidHexSecret)?;
            Ok(Secret::from_bytes(bytes)?)
        }
        (_, OtpKind::Yandex) => Ok(yandex_secret(Secret::from_base32(text)?.expose())?),
        _ => Ok(Secret::from_base32(text)?),
    }
}

/// The PIN of a Yandex.Key (base32 of UTF-8, as Aegis writes it) or mOTP (text) URI.
fn pin_of(kind: OtpKind, q: &Query<'_>) -> Result<Option<Pin>, UriError> {
    if !kind.uses_pin() {
        return Ok(None);
    }
    let kind_name = if kind == OtpKind::Motp {
        "mOTP"
    } else {
        "Yandex.Key"
    };
    let text = q
        .pin
        .as_deref()
        .ok_or(UriError::MissingPin { kind: kind_name })?;
    if kind == OtpKind::Motp {
        return Ok(Some(Pin::new(text)?));
    }
    let bytes = zeroize::Zeroizing::new(
        Secret::from_base32(text)
            .map_err(|_| UriError::InvalidPinEncoding)?
            .expose()
            .to_vec(),
    );
    let pin = std::str::from_utf8(&bytes).map_err(|_| UriError::InvalidPinEncoding)?;
    Ok(Some(Pin::new(pin)?))
}

/// The scheme of mOTP URIs, which has no type segment: `motp://ISSUER:NAME?…`.
const MOTP_SCHEME: &str = "motp";

/// Which of the two schemes a URI has; `motp://` carries its secret in hex.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Otpauth,
    Motp,
}

/// `scheme://TYPE/LABEL?QUERY` into its scheme, type, raw label and raw query.
fn split_uri(uri: &str) -> Result<(Scheme, &str, &str, &str), UriError> {
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::NotAUri)?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if scheme.eq_ignore_ascii_case(MOTP_SCHEME) {
        // No type segment: the whole path is the label.
        let label = path.trim_start_matches('/');
        return Ok((Scheme::Motp, MOTP_SCHEME, label, query));
    }
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return Err(UriError::WrongScheme {
            found: excerpt(scheme),
        });
    }
    let (otp_type, raw_label) = path.split_once('/').unwrap_or((path, ""));
    Ok((Scheme::Otpauth, otp_type, raw_label, query))
}

/// The issuer (the parameter wins over the label's prefix, with a warning when they differ)
/// and the account name.
fn issuer_and_label(
    raw_label: &str,
    parameter: Option<&str>,
    warnings: &mut Vec<Warning>,
) -> Result<(Option<String>, String), UriError> {
    let (raw_prefix, raw_account) = split_label(raw_label);
    let label = decode_label_part(raw_account)?;
    let label_issuer = match raw_prefix {
        Some(prefix) => Some(decode_label_part(prefix)?).filter(|s| !s.is_empty()),
        None => None,
    };
    let parameter_issuer = parameter
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let issuer = match (label_issuer, parameter_issuer) {
        (Some(from_label), Some(from_param)) => {
            if !from_label.eq_ignore_ascii_case(&from_param) {
                warnings.push(Warning::IssuerMismatch {
                    label_issuer: from_label,
                    parameter_issuer: from_param.clone(),
                });
            }
            Some(from_param)
        }
        (from_label, from_param) => from_param.or(from_label),
    };
    Ok((issuer, label))
}

/// The OTP parameters of `otp_type` (lowercase): Steam when the type, the issuer or the
/// encoder says so, else TOTP or HOTP from the algorithm, digits, period and counter.
fn parameters(
    otp_type: &str,
    issuer: Option<&str>,
    q: &Query<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<OtpParameters, UriError> {
    // Fixed constructions: their algorithm, digits and period parameters (Aegis writes
    // them; mOTP's algorithm is MD5) describe what the type already implies.
    match otp_type {
        "yaotp" | "yandex" => return Ok(OtpParameters::yandex()),
        MOTP_SCHEME => return Ok(OtpParameters::motp()),
        _ => {}
    }
    let algorithm = match q.algorithm.as_deref() {
        None => Algorithm::Sha1,
        Some(name) => Algorithm::from_name(name).ok_or_else(|| UriError::UnsupportedAlgorithm {
            found: excerpt(name),
        })?,
    };
    let digits = match q.digits.as_deref() {
        None => None,
        Some(text) => Some(
            text.trim()
                .parse::<u32>()
                .map_err(|_| UriError::InvalidDigits {
                    found: excerpt(text),
                })?,
        ),
    };
    let issuer_is_steam = issuer.is_some_and(|i| i.eq_ignore_ascii_case("steam"));
    let encoder_is_steam = q
        .encoder
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("steam"));
    let steam_digits = digits.is_none_or(|d| d == u32::from(STEAM_DIGITS));

    match otp_type {
        "steam" => Ok(OtpParameters::steam()),
        "totp" if steam_digits && (issuer_is_steam || encoder_is_steam) => {
            Ok(OtpParameters::steam())
        }
        "totp" => totp_parameters(algorithm, digits, q, warnings),
        "hotp" => hotp_parameters(algorithm, digits, q, warnings),
        other => Err(UriError::UnsupportedType {
            found: excerpt(other),
        }),
    }
}

fn totp_parameters(
    algorithm: Algorithm,
    digits: Option<u32>,
    q: &Query<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<OtpParameters, UriError> {
    let period = match q.period.as_deref() {
        None => 30,
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| UriError::InvalidPeriod {
                found: excerpt(text),
            })?,
    };
    if q.counter.is_some() {
        warnings.push(Warning::IgnoredParameter {
            name: "counter".into(),
        });
    }
    Ok(OtpParameters::totp(algorithm, digits.unwrap_or(6), period)?)
}

fn hotp_parameters(
    algorithm: Algorithm,
    digits: Option<u32>,
    q: &Query<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<OtpParameters, UriError> {
    let text = q.counter.as_deref().ok_or(UriError::MissingCounter)?;
    let counter = text
        .trim()
        .parse::<u64>()
        .map_err(|_| UriError::InvalidCounter {
            found: excerpt(text),
        })?;
    if q.period.is_some() {
        warnings.push(Warning::IgnoredParameter {
            name: "period".into(),
        });
    }
    Ok(OtpParameters::hotp(
        algorithm,
        digits.unwrap_or(6),
        counter,
    )?)
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Writes an account as an `otpauth://` URI that [`parse`] reads back to the same account.
/// Contains the secret: treat the result as one.
pub fn to_uri(account: &Account) -> String {
    let params = &account.params;
    let otp_type = match params.kind() {
        OtpKind::Motp => return motp_uri(account),
        OtpKind::Yandex => "yaotp",
        other => other.name(),
    };
    let label = match &account.issuer {
        Some(issuer) => format!("{}:{}", enc(issuer), enc(&account.label)),
        // An empty prefix keeps a colon inside the account name from being read as one.
        None if account.label.contains(':') => format!(":{}", enc(&account.label)),
        None => enc(&account.label),
    };
    let mut uri = format!(
        "otpauth://{otp_type}/{label}?secret={}",
        account.secret.to_base32()
    );
    if let Some(issuer) = &account.issuer {
        uri.push_str("&issuer=");
        uri.push_str(&enc(issuer));
    }
    match params.kind() {
        OtpKind::Steam | OtpKind::Motp => {}
        OtpKind::Yandex => {
            if let Some(pin) = &account.pin {
                uri.push_str("&pin=");
                uri.push_str(&base32_of_pin(pin));
            }
        }
        OtpKind::Totp { period } => {
            uri.push_str(&format!(
                "&algorithm={}&digits={}&period={period}",
                params.algorithm(),
                params.digits()
            ));
        }
        OtpKind::Hotp { counter } => {
            uri.push_str(&format!(
                "&algorithm={}&digits={}&counter={counter}",
                params.algorithm(),
                params.digits()
            ));
        }
    }
    uri
}

/// `motp://ISSUER:NAME?secret=HEX&issuer=…&pin=…`: the scheme mOTP apps scan.
fn motp_uri(account: &Account) -> String {
    let label = match &account.issuer {
        Some(issuer) => format!("{}:{}", enc(issuer), enc(&account.label)),
        None if account.label.contains(':') => format!(":{}", enc(&account.label)),
        None => enc(&account.label),
    };
    let mut uri = format!(
        "{MOTP_SCHEME}://{label}?secret={}",
        data_encoding::HEXLOWER.encode(account.secret.expose())
    );
    if let Some(issuer) = &account.issuer {
        uri.push_str("&issuer=");
        uri.push_str(&enc(issuer));
    }
    if let Some(pin) = &account.pin {
        uri.push_str("&pin=");
        uri.push_str(&enc(pin.expose()));
    }
    uri
}

/// A Yandex.Key PIN as Aegis writes it in a URI: base32 of its UTF-8, unpadded.
fn base32_of_pin(pin: &Pin) -> String {
    data_encoding::BASE32_NOPAD.encode(pin.expose().as_bytes())
}
