//! Microsoft Authenticator's internal database (Android: `/data/data/
//! com.azure.authenticator/databases/PhoneFactor`). SQLite, table `accounts`: `name` (the
//! service, used as issuer), `username` (the label), `oath_secret_key`, `account_type`:
//! - 0: a third-party TOTP account: base32 secret, SHA-1, 6 digits, 30 s;
//! - 1: a personal Microsoft account (MSA): base64 secret, SHA-1, 8 digits, 30 s;
//! - anything else (work or school accounts, push-only sign-in): no code of its own,
//!   counted as not an OTP account.
//!
//! Learned from Aegis's `MicrosoftAuthImporter` (types 0 and 1 and their encodings) and
//! checked against the database layout public forensics write-ups describe. Opened with the
//! bounds of [`super::sqlite_file`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::sqlite_file::{self, Table};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::MicrosoftAuthenticator;
const TYPE_TOTP: i64 = 0;
const TYPE_MICROSOFT: i64 = 1;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    let table = sqlite_file::read_table(FORMAT, data, "accounts")?;
    table.require_columns(FORMAT, "accounts", &["oath_secret_key", "account_type"])?;
    let mut report = ReportBuilder::new();
    for row in 0..table.len() {
        let issuer = table.text(row, "name").unwrap_or_default();
        let label = table.text(row, "username").unwrap_or_default();
        let kind = table.integer(row, "account_type");
        if !matches!(kind, Some(TYPE_TOTP | TYPE_MICROSOFT)) {
            report.not_otp();
            continue;
        }
        let name = if label.is_empty() {
            issuer.to_string()
        } else {
            format!("{}: {}", issuer.as_str(), label.as_str())
        };
        let result = account(&table, row, kind == Some(TYPE_MICROSOFT), &issuer, &label)
            .map(|account| (account, EntryMeta::default()));
        report.record(row, name, result);
    }
    Ok(report.finish())
}

fn account(
    table: &Table,
    row: usize,
    microsoft: bool,
    issuer: &str,
    label: &str,
) -> Result<Account, String> {
    let text = table.text(row, "oath_secret_key").ok_or("no secret")?;
    let fields = Fields {
        issuer,
        name: label,
        secret_base32: "",
        kind: "totp",
        algorithm: None,
        digits: Some(if microsoft { 8 } else { 6 }),
        period: None,
        counter: None,
    };
    let secret = if microsoft {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "the secret is not base64")?;
        Secret::from_bytes(bytes).map_err(|e| e.to_string())?
    } else {
        Secret::from_base32(&text).map_err(|e| e.to_string())?
    };
    fields.account_with(secret)
}
