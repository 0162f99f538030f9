//! Imports from and exports to other authenticators, and Countersign's own backup file.
//!
//! Every importer returns the accounts it read plus a failure for every entry it could not
//! use — nothing is dropped silently — and reports duplicates (same issuer, label and
//! secret) within the file. Formats: docs/transfer.md; backup file: docs/backup.md.

mod aegis;
mod andotp;
mod backup;
mod bitwarden;
mod freeotp;
mod text;
mod twofas;

use serde::Serialize;

use crate::account::{Account, OtpParameters};
use crate::otp::Algorithm;
use crate::secret::Secret;
use crate::vault::{EntryMeta, same_account};

pub use aegis::export as export_aegis;
pub use backup::{export as export_backup, import as import_backup};
pub use text::export as export_otpauth_list;

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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub accounts: Vec<Imported>,
    pub failures: Vec<ImportFailure>,
    /// Source positions of entries equal to an earlier one in the same file (not imported).
    pub duplicates: Vec<usize>,
    /// Entries that are not one-time-password accounts (e.g. Bitwarden logins without TOTP).
    pub not_otp: usize,
}

impl ImportReport {
    /// Adds an account unless an equal one was already read; keeps source positions.
    fn push(&mut self, index: usize, account: Account, meta: EntryMeta) {
        if self
            .accounts
            .iter()
            .any(|i| same_account(&i.account, &account))
        {
            self.duplicates.push(index);
        } else {
            self.accounts.push(Imported { account, meta });
        }
    }

    fn fail(&mut self, index: usize, name: impl Into<String>, reason: impl Into<String>) {
        self.failures.push(ImportFailure {
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportFormat {
    /// Aegis vault JSON, plain or password-encrypted.
    Aegis,
    /// `otpauth-migration://` URIs, one per line (Google Authenticator).
    GoogleAuthenticator,
    /// 2FAS `.2fas` backup, plain or encrypted.
    TwoFas,
    BitwardenJson,
    BitwardenCsv,
    /// Ente Auth's plain text export: otpauth URIs, one per line.
    Ente,
    /// andOTP JSON, plain or encrypted (`.json.aes`).
    AndOtp,
    /// FreeOTP+ JSON export.
    FreeOtpPlus,
    /// otpauth URIs, one per line.
    OtpauthList,
    /// A Countersign encrypted backup.
    Countersign,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 10] = [
        ImportFormat::Aegis,
        ImportFormat::GoogleAuthenticator,
        ImportFormat::TwoFas,
        ImportFormat::BitwardenJson,
        ImportFormat::BitwardenCsv,
        ImportFormat::Ente,
        ImportFormat::AndOtp,
        ImportFormat::FreeOtpPlus,
        ImportFormat::OtpauthList,
        ImportFormat::Countersign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Aegis => "aegis",
            ImportFormat::GoogleAuthenticator => "google-authenticator",
            ImportFormat::TwoFas => "2fas",
            ImportFormat::BitwardenJson => "bitwarden-json",
            ImportFormat::BitwardenCsv => "bitwarden-csv",
            ImportFormat::Ente => "ente",
            ImportFormat::AndOtp => "andotp",
            ImportFormat::FreeOtpPlus => "freeotp-plus",
            ImportFormat::OtpauthList => "otpauth",
            ImportFormat::Countersign => "countersign",
        }
    }

    pub fn from_name(name: &str) -> Option<ImportFormat> {
        ImportFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    match format {
        ImportFormat::Aegis => aegis::import(data, password),
        ImportFormat::TwoFas => twofas::import(data, password),
        ImportFormat::BitwardenJson => bitwarden::import_json(data),
        ImportFormat::BitwardenCsv => bitwarden::import_csv(data),
        ImportFormat::AndOtp => andotp::import(data, password),
        ImportFormat::FreeOtpPlus => freeotp::import(data),
        ImportFormat::GoogleAuthenticator => text::import_migration(data),
        ImportFormat::Ente | ImportFormat::OtpauthList => text::import_otpauth(data, format),
        ImportFormat::Countersign => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            backup::import(data, password)
        }
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
            other => return Err(format!("unsupported type {other}")),
        }
        .map_err(|e| e.to_string())?;
        let issuer = Some(self.issuer.trim().to_owned()).filter(|i| !i.is_empty());
        Ok(Account::new(issuer, self.name.trim(), secret, params))
    }
}

/// Hex and base64 helpers shared by the encrypted formats.
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

/// `[{ID_KEY: …, "name": …}]` lists (groups, folders) as (id, name) pairs.
pub(crate) fn named_ids(list: Option<&serde_json::Value>, id_key: &str) -> Vec<(String, String)> {
    list.and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|g| {
                    Some((
                        g.get(id_key)?.as_str()?.to_owned(),
                        g.get("name")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
