//! Google Authenticator exports: `otpauth-migration://offline?data=BASE64(MigrationPayload)`.
//!
//! A large export is split across several QR codes that share a `batch_id`; each says its
//! `batch_index` of `batch_size`. [`MigrationCollector`] gathers them and says which are
//! still missing. One bad entry (an MD5 account, say) is reported, not fatal to the batch.
//! The format and our encoding choices are in docs/migration.md.

mod proto;

use std::collections::BTreeMap;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::{percent_decode_str, utf8_percent_encode};
use prost::Message;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::account::{Account, OtpKind, OtpParameters};
use crate::otp::Algorithm;
use crate::otpauth::COMPONENT;
use crate::secret::Secret;
pub use proto::{MigrationPayload, OtpParametersProto};

/// Longest export URI accepted (a QR code holds at most 2953 bytes).
pub const MAX_MIGRATION_URI_LEN: usize = 8192;

/// Most QR codes one export may say it has. `batch_size` comes from the payload and sizes
/// the collector's bookkeeping, so it is bounded before anything is built from it. Google
/// Authenticator puts about ten accounts in a code: 1,000 codes are ten thousand accounts.
pub const MAX_MIGRATION_PARTS: i32 = 1000;

/// Default size budget per exported URI: fits a QR code of version 25 at error correction
/// level M, which phone cameras read comfortably from a screen.
pub const DEFAULT_MAX_URI_LEN: usize = 900;

const PREFIX: &str = "otpauth-migration://offline?data=";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    #[error("not an otpauth-migration://offline URI")]
    NotMigrationUri,
    #[error("the export has no data parameter")]
    MissingData,
    #[error("the data parameter appears more than once")]
    DuplicateData,
    #[error("the export data is not valid base64")]
    InvalidBase64,
    #[error("the export data is not a valid Google Authenticator payload")]
    InvalidPayload,
    #[error("the export URI is longer than {MAX_MIGRATION_URI_LEN} characters")]
    TooLong,
    #[error(
        "the export says it is part {index} of {size} QR codes \
         (at most {MAX_MIGRATION_PARTS} parts, numbered from 0)"
    )]
    BadBatchFields { index: i32, size: i32 },
}

/// Why one entry of an export could not become an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryError {
    #[error("unsupported algorithm ({name})")]
    UnsupportedAlgorithm { name: String },
    #[error("unsupported digit count (code {code})")]
    UnsupportedDigits { code: i32 },
    #[error("unsupported OTP type (code {code})")]
    UnsupportedType { code: i32 },
    #[error("the secret is empty")]
    EmptySecret,
    #[error("the secret is too long")]
    SecretTooLong,
    #[error("the HOTP counter is negative")]
    NegativeCounter,
}

/// An entry that was skipped, with enough to let the user recognise it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryFailure {
    /// Position in this payload's list, from 0.
    pub index: usize,
    pub issuer: String,
    pub name: String,
    pub error: EntryError,
}

/// One decoded QR code of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationBatch {
    pub version: i32,
    pub batch_size: i32,
    pub batch_index: i32,
    pub batch_id: i32,
    pub accounts: Vec<Account>,
    pub failures: Vec<EntryFailure>,
}

fn data_parameter(query: &str) -> Result<&str, MigrationError> {
    let mut found = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name.eq_ignore_ascii_case("data") {
            if found.is_some() {
                return Err(MigrationError::DuplicateData);
            }
            found = Some(value);
        }
    }
    found.ok_or(MigrationError::MissingData)
}

/// Base64 as it is found in the wild: standard or URL-safe alphabet, padded or not, and
/// with `+` turned into a space by a form decoder somewhere on the way.
fn decode_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, MigrationError> {
    let engine = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let normalized: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
            .map(|c| match c {
                ' ' => '+',
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect(),
    );
    engine
        .decode(normalized.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| MigrationError::InvalidBase64)
}

/// Decodes one `otpauth-migration://offline?data=…` URI.
pub fn decode(uri: &str) -> Result<MigrationBatch, MigrationError> {
    if uri.len() > MAX_MIGRATION_URI_LEN {
        return Err(MigrationError::TooLong);
    }
    let uri = uri.trim();
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or(MigrationError::NotMigrationUri)?;
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !scheme.eq_ignore_ascii_case("otpauth-migration") || !host.eq_ignore_ascii_case("offline") {
        return Err(MigrationError::NotMigrationUri);
    }
    let raw = data_parameter(query)?;
    // Percent-decoding only: a literal `+` here is base64, not a space.
    let text: Zeroizing<String> = Zeroizing::new(
        percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| MigrationError::InvalidBase64)?
            .into_owned(),
    );
    let bytes = decode_base64(&text)?;
    let payload =
        MigrationPayload::decode(bytes.as_slice()).map_err(|_| MigrationError::InvalidPayload)?;
    check_batch_fields(payload.batch_index, payload.batch_size)?;
    Ok(batch_from_payload(&payload))
}

/// The batch fields are the only numbers in the payload that later code turns into work
/// (one slot per part), so they are checked here, where the payload enters. Older exports
/// leave both at 0: one complete part.
fn check_batch_fields(index: i32, size: i32) -> Result<(), MigrationError> {
    let parts = size.max(1);
    if !(0..=MAX_MIGRATION_PARTS).contains(&size) || !(0..parts).contains(&index) {
        return Err(MigrationError::BadBatchFields { index, size });
    }
    Ok(())
}

fn batch_from_payload(payload: &MigrationPayload) -> MigrationBatch {
    let mut accounts = Vec::new();
    let mut failures = Vec::new();
    for (index, entry) in payload.otp_parameters.iter().enumerate() {
        let (issuer, name) = split_name(&entry.issuer, &entry.name);
        match account_from_entry(entry, issuer.clone(), name.clone()) {
            Ok(account) => accounts.push(account),
            Err(error) => failures.push(EntryFailure {
                index,
                issuer: issuer.unwrap_or_default(),
                name,
                error,
            }),
        }
    }
    MigrationBatch {
        version: payload.version,
        batch_size: payload.batch_size,
        batch_index: payload.batch_index,
        batch_id: payload.batch_id,
        accounts,
        failures,
    }
}

/// Google Authenticator sometimes stores the otpauth label "Issuer:account" as the name.
fn split_name(issuer: &str, name: &str) -> (Option<String>, String) {
    let issuer = issuer.trim();
    if let Some((prefix, rest)) = name.split_once(':') {
        let prefix = prefix.trim();
        if issuer.is_empty() && !prefix.is_empty() {
            return (Some(prefix.to_owned()), rest.trim().to_owned());
        }
        if prefix.eq_ignore_ascii_case(issuer) {
            return (Some(issuer.to_owned()), rest.trim().to_owned());
        }
    }
    let issuer = (!issuer.is_empty()).then(|| issuer.to_owned());
    (issuer, name.trim().to_owned())
}

fn account_from_entry(
    entry: &OtpParametersProto,
    issuer: Option<String>,
    name: String,
) -> Result<Account, EntryError> {
    let algorithm = match entry.algorithm {
        proto::ALGORITHM_UNSPECIFIED | proto::ALGORITHM_SHA1 => Algorithm::Sha1,
        proto::ALGORITHM_SHA256 => Algorithm::Sha256,
        proto::ALGORITHM_SHA512 => Algorithm::Sha512,
        proto::ALGORITHM_MD5 => {
            return Err(EntryError::UnsupportedAlgorithm { name: "MD5".into() });
        }
        other => {
            return Err(EntryError::UnsupportedAlgorithm {
                name: format!("code {other}"),
            });
        }
    };
    let digits = match entry.digits {
        proto::DIGITS_UNSPECIFIED | proto::DIGITS_SIX => 6,
        proto::DIGITS_EIGHT => 8,
        code => return Err(EntryError::UnsupportedDigits { code }),
    };
    let params = match entry.otp_type {
        // Unspecified: Google Authenticator's own default is time-based.
        proto::TYPE_UNSPECIFIED | proto::TYPE_TOTP => OtpParameters::totp(algorithm, digits, 30),
        proto::TYPE_HOTP => {
            let counter = u64::try_from(entry.counter).map_err(|_| EntryError::NegativeCounter)?;
            OtpParameters::hotp(algorithm, digits, counter)
        }
        code => return Err(EntryError::UnsupportedType { code }),
    }
    .map_err(|_| EntryError::UnsupportedDigits { code: entry.digits })?;
    let secret = Secret::from_bytes(entry.secret.clone()).map_err(|e| match e {
        crate::secret::SecretError::TooLong => EntryError::SecretTooLong,
        _ => EntryError::EmptySecret,
    })?;
    Ok(Account::new(issuer, name, secret, params))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    #[error("this QR code belongs to another export (batch {found}, expected {expected})")]
    OtherExport { expected: i32, found: i32 },
    #[error("this QR code says the export has {found} parts, earlier ones said {expected}")]
    InconsistentSize { expected: i32, found: i32 },
    #[error("part {index} is outside an export of {size} parts")]
    IndexOutOfRange { index: i32, size: i32 },
    #[error(
        "this QR code says the export has {size} parts; at most {MAX_MIGRATION_PARTS} are accepted"
    )]
    TooManyParts { size: i32 },
}

/// Whether a scanned part was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    AlreadyScanned,
}

/// Gathers the QR codes of one multi-part export, in any order.
#[derive(Debug, Default)]
pub struct MigrationCollector {
    batch_id: Option<i32>,
    batch_size: i32,
    parts: BTreeMap<i32, MigrationBatch>,
}

impl MigrationCollector {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, batch: MigrationBatch) -> Result<Added, CollectorError> {
        // Older exports leave the batch fields at 0: a single complete part.
        let size = batch.batch_size.max(1);
        // Batches can be built by hand, not only by `decode`: the size that bounds
        // `missing()` is checked here too.
        if size > MAX_MIGRATION_PARTS {
            return Err(CollectorError::TooManyParts { size });
        }
        if let Some(expected) = self.batch_id {
            if batch.batch_id != expected {
                return Err(CollectorError::OtherExport {
                    expected,
                    found: batch.batch_id,
                });
            }
            if size != self.batch_size {
                return Err(CollectorError::InconsistentSize {
                    expected: self.batch_size,
                    found: size,
                });
            }
        }
        if batch.batch_index < 0 || batch.batch_index >= size {
            return Err(CollectorError::IndexOutOfRange {
                index: batch.batch_index,
                size,
            });
        }
        self.batch_id = Some(batch.batch_id);
        self.batch_size = size;
        if self.parts.contains_key(&batch.batch_index) {
            return Ok(Added::AlreadyScanned);
        }
        self.parts.insert(batch.batch_index, batch);
        Ok(Added::New)
    }

    /// The batch indices not scanned yet (empty before the first part too, since the size
    /// is unknown until then).
    pub fn missing(&self) -> Vec<i32> {
        (0..self.batch_size)
            .filter(|i| !self.parts.contains_key(i))
            .collect()
    }

    /// The same as [`missing`](Self::missing) as inclusive ranges, computed from the parts
    /// scanned rather than the size claimed: `[(0, 2), (5, 5)]`.
    pub fn missing_ranges(&self) -> Vec<(i32, i32)> {
        let mut ranges = Vec::new();
        let mut next = 0;
        for &index in self.parts.keys().chain(std::iter::once(&self.batch_size)) {
            if index > next {
                ranges.push((next, index - 1));
            }
            next = index.saturating_add(1);
        }
        ranges
    }

    pub fn is_complete(&self) -> bool {
        self.batch_id.is_some() && self.missing().is_empty()
    }

    /// All accounts and failures of the parts scanned so far, in part order.
    pub fn into_parts(self) -> (Vec<Account>, Vec<EntryFailure>) {
        let mut accounts = Vec::new();
        let mut failures = Vec::new();
        for (_, part) in self.parts {
            accounts.extend(part.accounts);
            failures.extend(part.failures);
        }
        (accounts, failures)
    }
}

/// Why an account cannot travel in a Google Authenticator export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExportError {
    #[error("Google Authenticator has no Steam Guard codes")]
    Steam,
    /// Yandex.Key and mOTP: other constructions, with a PIN the format has no field for.
    #[error("Google Authenticator has no {kind} codes")]
    Kind { kind: &'static str },
    #[error("Google Authenticator supports only 6 or 8 digits, not {digits}")]
    Digits { digits: u8 },
    #[error("Google Authenticator supports only a 30-second period, not {period}")]
    Period { period: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedAccount {
    /// Position in the list given to [`encode`].
    pub index: usize,
    pub error: ExportError,
}

/// An export split into QR-sized URIs. The URIs contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedExport {
    pub uris: Vec<String>,
    pub skipped: Vec<SkippedAccount>,
}

fn entry_for(account: &Account) -> Result<OtpParametersProto, ExportError> {
    let params = account.params;
    let digits = match params.digits() {
        6 => proto::DIGITS_SIX,
        8 => proto::DIGITS_EIGHT,
        digits if params.kind() != OtpKind::Steam => return Err(ExportError::Digits { digits }),
        _ => return Err(ExportError::Steam),
    };
    let (otp_type, counter) = match params.kind() {
        OtpKind::Steam => return Err(ExportError::Steam),
        OtpKind::Yandex => return Err(ExportError::Kind { kind: "Yandex.Key" }),
        OtpKind::Motp => return Err(ExportError::Kind { kind: "mOTP" }),
        OtpKind::Totp { period: 30 } => (proto::TYPE_TOTP, 0),
        OtpKind::Totp { period } => return Err(ExportError::Period { period }),
        // Counters beyond i64::MAX do not occur in practice; saturate rather than wrap.
        OtpKind::Hotp { counter } => (proto::TYPE_HOTP, i64::try_from(counter).unwrap_or(i64::MAX)),
    };
    Ok(OtpParametersProto {
        secret: account.secret.expose().to_vec(),
        name: account.label.clone(),
        issuer: account.issuer.clone().unwrap_or_default(),
        algorithm: match params.algorithm() {
            Algorithm::Sha1 => proto::ALGORITHM_SHA1,
            Algorithm::Sha256 => proto::ALGORITHM_SHA256,
            Algorithm::Sha512 => proto::ALGORITHM_SHA512,
        },
        digits,
        otp_type,
        counter,
    })
}

fn payload_uri(payload: &MigrationPayload) -> String {
    let bytes = Zeroizing::new(payload.encode_to_vec());
    let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes.as_slice()));
    format!("{PREFIX}{}", utf8_percent_encode(&text, COMPONENT))
}

/// Room kept free while packing for the batch fields filled in afterwards (at most 14
/// protobuf bytes, so 19 base64 characters, each at most 3 once percent-encoded).
const HEADER_RESERVE: usize = 60;

/// Splits `accounts` into export URIs of at most `max_uri_len` characters each (an account
/// too large for the budget on its own still gets a URI of its own). `batch_id` ties the
/// parts together; it is made non-negative so it stays a short varint.
pub fn encode(accounts: &[Account], max_uri_len: usize, batch_id: i32) -> EncodedExport {
    let batch_id = batch_id & i32::MAX;
    let budget = max_uri_len.saturating_sub(HEADER_RESERVE);
    let mut skipped = Vec::new();
    let mut groups: Vec<Vec<OtpParametersProto>> = Vec::new();
    let mut current: Vec<OtpParametersProto> = Vec::new();
    for (index, account) in accounts.iter().enumerate() {
        let entry = match entry_for(account) {
            Ok(entry) => entry,
            Err(error) => {
                skipped.push(SkippedAccount { index, error });
                continue;
            }
        };
        current.push(entry);
        let trial = MigrationPayload {
            otp_parameters: current.clone(),
            ..Default::default()
        };
        if current.len() > 1
            && payload_uri(&trial).len() > budget
            && let Some(overflow) = current.pop()
        {
            groups.push(std::mem::take(&mut current));
            current.push(overflow);
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let batch_size = groups.len() as i32;
    let uris = groups
        .into_iter()
        .enumerate()
        .map(|(batch_index, otp_parameters)| {
            payload_uri(&MigrationPayload {
                otp_parameters,
                version: 1,
                batch_size,
                batch_index: batch_index as i32,
                batch_id,
            })
        })
        .collect();
    EncodedExport { uris, skipped }
}

/// A random, non-negative batch id for a new export.
pub fn random_batch_id() -> i32 {
    rand::random::<i32>() & i32::MAX
}
