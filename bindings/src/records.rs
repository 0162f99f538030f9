//! The data the apps receive: plain records and enums, no secrets unless asked for.

use countersign_app::scan::{Payload, ScannedCode};
use countersign_app::vault::Entry;
use countersign_app::{Account, OtpKind};

// The core's own types, exported as they are: `#[uniffi::remote]` re-declares each one and
// the code it generates matches every variant / builds every field, so the compiler rejects
// a re-declaration that drifts from the real type (no hand-kept copy and conversion).
pub use countersign_app::scan::Point;
pub use countersign_app::transfer::{ExportFormat, ImportFormat};

use crate::error::CountersignError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpType {
    Totp,
    Hotp,
    Steam,
    /// Yandex.Key: 8 letters every 30 s, from the secret and the account's PIN.
    Yandex,
    /// Mobile-OTP: 6 hex characters every 10 s, from the secret and the account's PIN.
    Motp,
}

impl OtpType {
    pub(crate) fn of(account: &Account) -> OtpType {
        match account.params.kind() {
            OtpKind::Totp { .. } => OtpType::Totp,
            OtpKind::Hotp { .. } => OtpType::Hotp,
            OtpKind::Steam => OtpType::Steam,
            OtpKind::Yandex => OtpType::Yandex,
            OtpKind::Motp => OtpType::Motp,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountInfo {
    pub id: String,
    pub issuer: Option<String>,
    pub label: String,
    pub otp_type: OtpType,
    pub algorithm: String,
    pub digits: u8,
    /// Seconds per code (time-based accounts).
    pub period: Option<u32>,
    /// Next counter (HOTP).
    pub counter: Option<u64>,
    pub tags: Vec<String>,
    pub notes: String,
    /// The secret has fewer than 128 bits: suggest re-enrolling.
    pub weak_secret: bool,
}

impl AccountInfo {
    pub(crate) fn from_entry(entry: &Entry) -> AccountInfo {
        let account: &Account = &entry.account;
        let params = account.params;
        AccountInfo {
            id: entry.id.to_string(),
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            otp_type: OtpType::of(account),
            algorithm: params.algorithm_name().to_string(),
            digits: params.digits(),
            period: params.period(),
            counter: params.counter(),
            tags: entry.meta.tags.clone(),
            notes: entry.meta.notes.clone(),
            weak_secret: account.secret.is_weak(),
        }
    }
}

/// One account's code at an instant.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeInfo {
    pub account_id: String,
    pub code: String,
    /// Seconds until the next code (time-based); `None` for HOTP, whose codes are made on
    /// demand with `next_hotp_code`.
    pub seconds_remaining: Option<u32>,
}

#[uniffi::remote(Record)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PayloadKind {
    /// `otpauth://`: `add_from_uri(text)` enrols it.
    Account,
    /// One QR code of a Google Authenticator export: ask for the others.
    MigrationBatch {
        index: i32,
        size: i32,
        accounts: u32,
    },
    /// `txotp://`: `transactional_code(account_id, text)`.
    Transaction,
    /// `countersign://register`: `register_device(text, …)`.
    DeviceRegistration,
    Text,
    /// A known scheme that does not parse; show `reason`.
    Malformed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ScannedQr {
    pub text: String,
    /// The code's outline in frame pixels, in drawing order.
    pub corners: Vec<Point>,
    pub kind: PayloadKind,
}

impl From<ScannedCode> for ScannedQr {
    fn from(code: ScannedCode) -> ScannedQr {
        let kind = match &code.payload {
            Payload::Account(_) => PayloadKind::Account,
            Payload::MigrationBatch(batch) => PayloadKind::MigrationBatch {
                index: batch.batch_index,
                size: batch.batch_size,
                accounts: batch.accounts.len() as u32,
            },
            Payload::Transaction(_) => PayloadKind::Transaction,
            Payload::DeviceRegistration(_) => PayloadKind::DeviceRegistration,
            Payload::Text => PayloadKind::Text,
            Payload::Malformed { reason, .. } => PayloadKind::Malformed {
                reason: reason.clone(),
            },
        };
        ScannedQr {
            corners: code.corners,
            text: code.text,
            kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Detail {
    pub key: String,
    pub value: String,
}

/// A transaction's or a request's `(key, value)` details as records, in display order.
pub(crate) fn details(list: &[(String, String)]) -> Vec<Detail> {
    list.iter()
        .map(|(key, value)| Detail {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

/// A transactional code with the transaction as it must be displayed next to it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionCode {
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
}

/// A registration with a bank's server. One phone may hold several with one server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    /// This registration's local id; its device key is its own (alias
    /// `app.countersign.device-key.<registration_id>` in the `DeviceKeyStore`).
    pub registration_id: String,
    pub server_url: String,
    pub device_id: i64,
    pub authy_id: i64,
    /// The user's Authy-style TOTP account, added to the vault at registration.
    pub account_id: Option<String>,
}

/// A pending approval request, verified (server signature, user, expiry): safe to show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalRequest {
    /// The registration it was fetched (and is answered) with.
    pub registration_id: String,
    pub server_url: String,
    pub uuid: String,
    pub message: String,
    /// In display order.
    pub details: Vec<Detail>,
    /// Unix seconds; 0 = never.
    pub expires_at: i64,
    /// Number matching: offer these; approve with the one the bank's page shows.
    pub number_choices: Vec<u8>,
}

/// A registration whose server could not be asked, or whose answer was refused: the app shows
/// it next to that bank, and every other bank's requests as usual.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ServerFailure {
    pub registration_id: String,
    pub server_url: String,
    pub error: CountersignError,
}

/// Pending approvals of every registration that answered, and why the others did not. A
/// challenge that fails verification (signature, user, expiry, displayable content) is never
/// among `requests`; it is listed in `failures`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingApprovals {
    pub requests: Vec<ApprovalRequest>,
    pub failures: Vec<ServerFailure>,
}

#[uniffi::remote(Enum)]
pub enum ImportFormat {
    Authy,
    Aegis,
    GoogleAuthenticator,
    TwoFas,
    BitwardenJson,
    BitwardenCsv,
    Ente,
    AndOtp,
    FreeOtpPlus,
    FreeOtp,
    TotpAuthenticator,
    OtpauthList,
    Countersign,
    GoogleAuthenticatorDb,
    MicrosoftAuthenticator,
    Steam,
    BattleNet,
    Duo,
    WinAuth,
    LastPass,
    Raivo,
    AuthenticatorPlus,
    Stratum,
    ProtonAuthenticator,
    ProtonPass,
}

#[uniffi::remote(Enum)]
pub enum ExportFormat {
    Countersign,
    Aegis,
    GoogleAuthenticator,
    OtpauthList,
    Ente,
    TwoFas,
    BitwardenJson,
    PrintableSheet,
    AndOtp,
    Stratum,
    ProtonAuthenticator,
}

/// An export format as a picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportFormatInfo {
    pub format: ExportFormat,
    /// The name the CLI and the docs use (`aegis`, `google-authenticator`, …).
    pub name: String,
    /// Offer a password field.
    pub can_encrypt: bool,
    /// The password is required (the format is always encrypted).
    pub needs_password: bool,
}

/// One account an import read, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportedAccount {
    pub issuer: Option<String>,
    pub label: String,
    pub otp_type: OtpType,
    /// The new account's id; `None` when the vault already held this account.
    pub account_id: Option<String>,
}

/// An entry of the file, by position (from 0) and name, with what to tell the user: why it
/// was not imported, or what to know about it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryMessage {
    pub index: u32,
    pub name: String,
    pub message: String,
}

/// What an import did, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportSummary {
    /// The format read (the one found, for `import_file`).
    pub format: ImportFormat,
    /// Every account read, in file order, added or already held.
    pub accounts: Vec<ImportedAccount>,
    pub added: u32,
    /// Already in the vault, or repeated in the file.
    pub duplicates: u32,
    /// Entries that could not be read.
    pub failures: Vec<EntryMessage>,
    /// Notices about imported entries (e.g. an Authy token that keeps working only while
    /// its Authy device stays registered).
    pub notices: Vec<EntryMessage>,
    /// Entries that are not one-time-password accounts (e.g. plain logins).
    pub not_otp: u32,
}

/// An account the export format could not hold, or holds changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportNotice {
    /// Position in `accounts()`, from 0.
    pub index: u32,
    pub name: String,
    /// Missing from the file (else it is there, changed as `reason` says).
    pub skipped: bool,
    pub reason: String,
}

/// A finished export: the file's bytes (write them where the user chose) and the notices.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportResult {
    pub data: Vec<u8>,
    pub exported: u32,
    pub notices: Vec<ExportNotice>,
}
