//! Imports from and exports to other authenticators, and Countersign's own backup file.
//!
//! Every importer returns the accounts it read plus a failure for every entry it could not
//! use — nothing is dropped silently — and reports duplicates (same issuer, label and
//! secret) within the file. Formats: docs/transfer.md; backup file: docs/backup.md.

mod aegis;
mod andotp;
mod andotp_export;
mod archive;
mod authenticator_plus;
mod authy;
mod backup;
mod battlenet;
mod bitwarden;
mod bitwarden_export;
pub(crate) mod dedup;
mod detect;
mod duo;
mod ente;
mod ente_display;
mod export;
mod freeotp;
mod freeotp_backup;
mod google_authenticator_db;
mod java_serial;
mod json;
mod kdf;
mod lastpass;
mod microsoft_authenticator;
pub(crate) mod prefs_xml;
mod proton_authenticator;
mod proton_authenticator_export;
mod proton_pass;
mod raivo;
mod secretstream;
mod sheet;
mod sqlite_file;
mod steam;
mod stratum;
mod stratum_db;
mod stratum_export;
mod text;
mod totp_authenticator;
mod twofas;
mod twofas_export;
mod winauth;

use serde::Serialize;

use crate::account::{Account, OtpParameters};
use crate::otp::Algorithm;
use crate::secret::Secret;
use crate::vault::EntryMeta;
use dedup::AccountIndex;

pub use aegis::export as export_aegis;
pub use archive::{
    MAX_ARCHIVE_ENTRIES, MAX_ENTRY_BYTES, MAX_PROTON_PASS_ENTRIES as MAX_ZIP_ENTRIES,
    MAX_WINAUTH_ENTRY_BYTES,
};
pub use backup::{export as export_backup, import as import_backup};
pub use detect::{detect, import_auto};
pub use ente::{
    EXPORT_MEMLIMIT as ENTE_EXPORT_MEMLIMIT, EXPORT_OPSLIMIT as ENTE_EXPORT_OPSLIMIT,
    export_with as export_ente_with,
};
pub use export::{Export, ExportError, ExportFormat, ExportNotice, export};
pub use json::MAX_JSON_VALUES;
pub use kdf::{
    KdfBudget, MAX_PASSWORD_ATTEMPTS, MAX_PBKDF2_ITERATIONS, MAX_PER_ENTRY_PBKDF2_ITERATIONS,
    MAX_SODIUM_MEMLIMIT, MAX_SODIUM_WORK,
};
pub use stratum_db::MAX_ROWS as MAX_DATABASE_ROWS;
pub use text::export as export_otpauth_list;

/// Largest import file read. Parsing builds a tree a few times the file's size; real
/// exports, icons included, are far smaller (a few MB for hundreds of accounts).
pub const MAX_IMPORT_FILE_LEN: usize = 16 * 1024 * 1024;

/// One imported account with the metadata the source app had for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub account: Account,
    pub meta: EntryMeta,
}

/// An entry that could not be imported, with enough to recognise it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportFailure {
    /// Position in the source file, from 0.
    pub index: usize,
    pub name: String,
    pub reason: String,
}

/// Something the user must know about an entry that was imported (e.g. an Authy-native
/// token that works only while the Authy device stays registered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportNotice {
    /// Position in the source file, from 0.
    pub index: usize,
    pub name: String,
    pub notice: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub accounts: Vec<Imported>,
    pub failures: Vec<ImportFailure>,
    /// Source positions of entries equal to an earlier one in the same file (not imported).
    pub duplicates: Vec<usize>,
    /// Entries that are not one-time-password accounts (e.g. Bitwarden logins without TOTP).
    pub not_otp: usize,
    /// Per-entry notices about imported accounts, by source position.
    pub notices: Vec<ImportNotice>,
}

/// An [`ImportReport`] being filled, with the index that finds duplicates in one lookup.
struct ReportBuilder {
    report: ImportReport,
    seen: AccountIndex,
}

impl ReportBuilder {
    fn new() -> ReportBuilder {
        ReportBuilder {
            report: ImportReport::default(),
            seen: AccountIndex::new(),
        }
    }

    /// Adds an account unless an equal one was already read; keeps source positions.
    fn push(&mut self, index: usize, account: Account, meta: EntryMeta) {
        let accounts = &self.report.accounts;
        if self
            .seen
            .find(&account, |i| {
                accounts.get(i).map(|imported| &imported.account)
            })
            .is_some()
        {
            self.report.duplicates.push(index);
        } else {
            self.seen.insert(&account, accounts.len());
            self.report.accounts.push(Imported { account, meta });
        }
    }

    fn fail(&mut self, index: usize, name: impl Into<String>, reason: impl Into<String>) {
        self.report.failures.push(ImportFailure {
            index,
            name: name.into(),
            reason: reason.into(),
        });
    }

    fn record(&mut self, index: usize, name: String, result: Result<(Account, EntryMeta), String>) {
        match result {
            Ok((account, meta)) => self.push(index, account, meta),
            Err(reason) => self.fail(index, name, reason),
        }
    }

    /// Attaches a notice to the entry at source position `index`.
    fn notice(&mut self, index: usize, name: impl Into<String>, notice: impl Into<String>) {
        self.report.notices.push(ImportNotice {
            index,
            name: name.into(),
            notice: notice.into(),
        });
    }

    fn not_otp(&mut self) {
        self.report.not_otp += 1;
    }

    fn finish(self) -> ImportReport {
        self.report
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportFormat {
    /// Authy: the Android app's token storage (plain or backup-password encrypted), the
    /// server's token list and the JSON files public Authy export tools write.
    Authy,
    /// Aegis vault JSON, plain or password-encrypted.
    Aegis,
    /// `otpauth-migration://` URIs, one per line (Google Authenticator).
    GoogleAuthenticator,
    /// 2FAS `.2fas` backup, plain or encrypted.
    TwoFas,
    BitwardenJson,
    BitwardenCsv,
    /// Ente Auth's export: otpauth URIs, one per line, or its encrypted JSON envelope.
    Ente,
    /// andOTP JSON, plain or encrypted (`.json.aes`).
    AndOtp,
    /// FreeOTP+ JSON export, or its internal `tokens.xml`.
    FreeOtpPlus,
    /// FreeOTP: a FreeOTP 2 backup (`externalBackup.xml`, `tokenBackup.xml`), or FreeOTP
    /// 1.x's internal `tokens.xml`.
    FreeOtp,
    /// TOTP Authenticator's encrypted backup, or its internal preferences file.
    TotpAuthenticator,
    /// otpauth URIs, one per line.
    OtpauthList,
    /// A Countersign encrypted backup.
    Countersign,
    /// Google Authenticator's internal SQLite database (`databases`).
    GoogleAuthenticatorDb,
    /// Microsoft Authenticator's internal SQLite database (`PhoneFactor`).
    MicrosoftAuthenticator,
    /// Steam Guard JSON: a Steam Desktop Authenticator `.maFile` or the Steam app's file.
    Steam,
    /// Battle.net Authenticator SharedPreferences XML.
    BattleNet,
    /// Duo Mobile's `accounts.json`.
    Duo,
    /// WinAuth's export: plain text, or a zip of it (optionally password-encrypted).
    WinAuth,
    /// LastPass Authenticator's JSON export.
    LastPass,
    /// Raivo OTP's password-protected zip (`raivo-otp-export.json` inside).
    Raivo,
    /// Authenticator Plus's password-protected zip (`Accounts.txt` inside).
    AuthenticatorPlus,
    /// Stratum / Authenticator Pro: JSON backup (plain, encrypted, legacy encrypted) or the
    /// app's SQLite database.
    Stratum,
    /// Proton Authenticator JSON export, plain or password-protected.
    ProtonAuthenticator,
    /// Proton Pass unencrypted export (zip or `data.json`).
    ProtonPass,
}

impl ImportFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: &'static [ImportFormat] = &[
        ImportFormat::Authy,
        ImportFormat::Aegis,
        ImportFormat::GoogleAuthenticator,
        ImportFormat::TwoFas,
        ImportFormat::BitwardenJson,
        ImportFormat::BitwardenCsv,
        ImportFormat::Ente,
        ImportFormat::AndOtp,
        ImportFormat::FreeOtpPlus,
        ImportFormat::FreeOtp,
        ImportFormat::TotpAuthenticator,
        ImportFormat::OtpauthList,
        ImportFormat::Countersign,
        ImportFormat::GoogleAuthenticatorDb,
        ImportFormat::MicrosoftAuthenticator,
        ImportFormat::Steam,
        ImportFormat::BattleNet,
        ImportFormat::Duo,
        ImportFormat::WinAuth,
        ImportFormat::LastPass,
        ImportFormat::Raivo,
        ImportFormat::AuthenticatorPlus,
        ImportFormat::Stratum,
        ImportFormat::ProtonAuthenticator,
        ImportFormat::ProtonPass,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Authy => "authy",
            ImportFormat::Aegis => "aegis",
            ImportFormat::GoogleAuthenticator => "google-authenticator",
            ImportFormat::TwoFas => "2fas",
            ImportFormat::BitwardenJson => "bitwarden-json",
            ImportFormat::BitwardenCsv => "bitwarden-csv",
            ImportFormat::Ente => "ente",
            ImportFormat::AndOtp => "andotp",
            ImportFormat::FreeOtpPlus => "freeotp-plus",
            ImportFormat::FreeOtp => "freeotp",
            ImportFormat::TotpAuthenticator => "totp-authenticator",
            ImportFormat::OtpauthList => "otpauth",
            ImportFormat::Countersign => "countersign",
            ImportFormat::GoogleAuthenticatorDb => "google-authenticator-db",
            ImportFormat::MicrosoftAuthenticator => "microsoft-authenticator",
            ImportFormat::Steam => "steam",
            ImportFormat::BattleNet => "battle-net",
            ImportFormat::Duo => "duo",
            ImportFormat::WinAuth => "winauth",
            ImportFormat::LastPass => "lastpass",
            ImportFormat::Raivo => "raivo",
            ImportFormat::AuthenticatorPlus => "authenticator-plus",
            ImportFormat::Stratum => "stratum",
            ImportFormat::ProtonAuthenticator => "proton-authenticator",
            ImportFormat::ProtonPass => "proton-pass",
        }
    }

    pub fn from_name(name: &str) -> Option<ImportFormat> {
        ImportFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("the file is not a valid {format} export: {reason}")]
    InvalidFile {
        format: &'static str,
        reason: String,
    },
    #[error("this export is encrypted: a password is needed")]
    PasswordRequired,
    #[error("wrong password, or the file is damaged")]
    WrongPassword,
    #[error("{0}")]
    Unsupported(String),
    /// The file's own key-derivation settings ask for more memory or time than a phone can
    /// give (`reason` names them); no derivation was started.
    #[error("this file asks for too much key-derivation work ({reason}); no app writes that")]
    ExcessiveKdf { reason: String },
    #[error("the file is larger than {MAX_IMPORT_FILE_LEN} bytes")]
    TooLarge,
    /// Automatic detection recognised no format it reads.
    #[error("this file is not an export of any app Countersign reads")]
    UnknownFormat,
}

impl ImportError {
    fn invalid(format: ImportFormat, reason: impl std::fmt::Display) -> ImportError {
        ImportError::InvalidFile {
            format: format.name(),
            reason: reason.to_string(),
        }
    }
}

/// Reads an export of another app (or a Countersign backup).
pub fn import(
    format: ImportFormat,
    data: &[u8],
    password: Option<&str>,
) -> Result<ImportReport, ImportError> {
    import_within(format, data, password, KdfBudget::per_import())
}

/// [`import`] with another key-derivation budget (a smaller one for slow devices or
/// fuzzing). Every derivation the file asks for is charged to it before it runs.
pub fn import_within(
    format: ImportFormat,
    data: &[u8],
    password: Option<&str>,
    mut budget: KdfBudget,
) -> Result<ImportReport, ImportError> {
    if data.len() > MAX_IMPORT_FILE_LEN {
        return Err(ImportError::TooLarge);
    }
    match format {
        ImportFormat::Authy => authy::import(data, password, &mut budget),
        ImportFormat::Aegis => aegis::import(data, password, &mut budget),
        ImportFormat::TwoFas => twofas::import(data, password, &mut budget),
        ImportFormat::BitwardenJson => bitwarden::import_json(data),
        ImportFormat::BitwardenCsv => bitwarden::import_csv(data),
        ImportFormat::AndOtp => andotp::import(data, password, &mut budget),
        ImportFormat::FreeOtpPlus => freeotp::import_plus(data),
        ImportFormat::FreeOtp => freeotp::import_freeotp(data, password, &mut budget),
        ImportFormat::TotpAuthenticator => totp_authenticator::import(data, password),
        ImportFormat::GoogleAuthenticator => text::import_migration(data),
        ImportFormat::Ente => ente::import(data, password, &mut budget),
        ImportFormat::OtpauthList => text::import_otpauth(data, format),
        ImportFormat::Raivo => raivo::import(data, password, &mut budget),
        ImportFormat::AuthenticatorPlus => authenticator_plus::import(data, password, &mut budget),
        ImportFormat::Countersign => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            backup::import(data, password, &mut budget)
        }
        ImportFormat::GoogleAuthenticatorDb => google_authenticator_db::import(data),
        ImportFormat::MicrosoftAuthenticator => microsoft_authenticator::import(data),
        ImportFormat::Steam => steam::import(data),
        ImportFormat::BattleNet => battlenet::import(data),
        ImportFormat::Duo => duo::import(data),
        ImportFormat::WinAuth => winauth::import(data, password, &mut budget),
        ImportFormat::LastPass => lastpass::import(data),
        ImportFormat::Stratum => stratum::import(data, password, &mut budget),
        ImportFormat::ProtonAuthenticator => {
            proton_authenticator::import(data, password, &mut budget)
        }
        ImportFormat::ProtonPass => proton_pass::import(data, &mut budget),
    }
}

/// The fields most formats store, turned into a checked account.
pub(crate) struct Fields<'a> {
    pub issuer: &'a str,
    pub name: &'a str,
    pub secret_base32: &'a str,
    pub kind: &'a str,
    pub algorithm: Option<&'a str>,
    pub digits: Option<u32>,
    pub period: Option<u32>,
    pub counter: Option<u64>,
}

impl Fields<'_> {
    pub fn account(&self) -> Result<Account, String> {
        let secret = Secret::from_base32(self.secret_base32).map_err(|e| e.to_string())?;
        self.account_with(secret)
    }

    pub fn account_with(&self, secret: Secret) -> Result<Account, String> {
        let algorithm = match self.algorithm {
            None | Some("") => Algorithm::Sha1,
            Some(name) => {
                Algorithm::from_name(name).ok_or_else(|| format!("unsupported algorithm {name}"))?
            }
        };
        let params = match self.kind.to_ascii_lowercase().as_str() {
            "totp" => OtpParameters::totp(
                algorithm,
                self.digits.unwrap_or(6),
                self.period.unwrap_or(30),
            ),
            "hotp" => OtpParameters::hotp(
                algorithm,
                self.digits.unwrap_or(6),
                self.counter.unwrap_or(0),
            ),
            "steam" => Ok(OtpParameters::steam()),
            kind @ ("yandex" | "yaotp" | "motp") => {
                return Err(format!(
                    "this {kind} entry has no PIN, and its codes need it"
                ));
            }
            other => return Err(format!("unsupported type {other}")),
        }
        .map_err(|e| e.to_string())?;
        let issuer = Some(self.issuer.trim().to_owned()).filter(|i| !i.is_empty());
        Ok(Account::new(issuer, self.name.trim(), secret, params))
    }
}

impl Fields<'_> {
    /// Like [`Fields::account_with`], and for the kinds that hash a PIN in — Yandex.Key
    /// (`yandex`, `yaotp`) and mOTP (`motp`) — the account with `pin`, which they require.
    /// Their algorithm, digits and period are fixed, so those fields are not read; a Yandex
    /// secret may be the 26-byte form with its checksum.
    pub fn account_with_pin(&self, secret: Secret, pin: Option<&str>) -> Result<Account, String> {
        let kind = self.kind.to_ascii_lowercase();
        let (params, secret) = match kind.as_str() {
            "yandex" | "yaotp" => (
                OtpParameters::yandex(),
                crate::otp::yandex_secret(secret.expose()).map_err(|e| e.to_string())?,
            ),
            "motp" => (OtpParameters::motp(), secret),
            _ => return self.account_with(secret),
        };
        let pin = pin
            .filter(|p| !p.is_empty())
            .ok_or_else(|| format!("this {kind} entry has no PIN, and its codes need it"))?;
        let pin = crate::pin::Pin::new(pin).map_err(|e| e.to_string())?;
        let issuer = Some(self.issuer.trim().to_owned()).filter(|i| !i.is_empty());
        Ok(Account::new(issuer, self.name.trim(), secret, params).with_pin(pin))
    }
}

/// The account of a password manager's TOTP field (Bitwarden, Proton Pass): an otpauth URI,
/// `steam://SECRET` or a bare base32 secret; the item's name and username stand in for the
/// issuer and label a URI leaves out (a bare secret has neither).
pub(crate) fn totp_field_account(
    field: &str,
    item_name: &str,
    username: &str,
) -> Result<Account, String> {
    use crate::payload::{self, PayloadKind};
    let field = field.trim();
    if payload::kind_of(field) == PayloadKind::Account {
        let mut account = crate::otpauth::parse(field)
            .map_err(|e| e.to_string())?
            .account;
        if account.issuer.is_none() && !item_name.is_empty() {
            account.issuer = Some(item_name.to_owned());
        }
        if account.label.is_empty() {
            account.label = username.to_owned();
        }
        return Ok(account);
    }
    let (kind, secret) = match field.get(..8) {
        Some(prefix) if prefix.eq_ignore_ascii_case("steam://") => ("steam", &field[8..]),
        _ => ("totp", field),
    };
    Fields {
        issuer: item_name,
        name: username,
        secret_base32: secret,
        kind,
        algorithm: None,
        digits: None,
        period: None,
        counter: None,
    }
    .account()
}

/// A Steam Guard account called `name` (Steam's codes take no other parameters).
pub(crate) fn steam_account(name: &str, secret: Secret) -> Result<Account, String> {
    Fields {
        issuer: "Steam",
        name,
        secret_base32: "",
        kind: "steam",
        algorithm: None,
        digits: None,
        period: None,
        counter: None,
    }
    .account_with(secret)
}

/// Hex fields of the encrypted formats (either case).
pub(crate) fn hex(text: &str) -> Option<Vec<u8>> {
    crate::vault::hex_decode(text)
}

/// AES-256-GCM decryption of `ciphertext‖tag`, as 2FAS and andOTP use it.
pub(crate) fn aes_gcm_open(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, ImportError> {
    use aes_gcm::aead::{Aead, KeyInit};
    let iv: [u8; 12] = iv.try_into().map_err(|_| ImportError::WrongPassword)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| ImportError::WrongPassword)?;
    cipher
        .decrypt(&aes_gcm::Nonce::from(iv), ciphertext)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| ImportError::WrongPassword)
}

/// `[{ID_KEY: …, "name": …}]` lists (groups, folders) as a map from id to name, so each
/// entry's lookup is one hash probe however many groups a file declares. The first of
/// repeated ids wins.
pub(crate) fn named_ids(
    list: Option<&serde_json::Value>,
    id_key: &str,
) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    for item in list
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = item.get(id_key).and_then(serde_json::Value::as_str);
        let name = item.get("name").and_then(serde_json::Value::as_str);
        if let (Some(id), Some(name)) = (id, name) {
            names
                .entry(id.to_owned())
                .or_insert_with(|| bounded_tag(name));
        }
    }
    names
}

/// Longest tag kept from a group or folder name, in bytes. A name is stored once in the
/// file but copied into every entry that refers to it, so its length is bounded.
pub const MAX_TAG_BYTES: usize = 64;

/// Most tags taken for one entry from group references.
pub const MAX_TAGS_PER_ENTRY: usize = 16;

/// `name` cut to [`MAX_TAG_BYTES`] at a character boundary.
fn bounded_tag(name: &str) -> String {
    let mut end = name.len().min(MAX_TAG_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// The names of the groups `ids` refers to: each once, at most [`MAX_TAGS_PER_ENTRY`].
pub(crate) fn tags_for<'a>(
    ids: impl Iterator<Item = &'a str>,
    names: &std::collections::HashMap<String, String>,
) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for name in ids.filter_map(|id| names.get(id)) {
        if tags.len() == MAX_TAGS_PER_ENTRY {
            break;
        }
        if !tags.contains(name) {
            tags.push(name.clone());
        }
    }
    tags
}
