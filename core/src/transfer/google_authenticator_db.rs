//! Google Authenticator's internal database (Android: `/data/data/
//! com.google.android.apps.authenticator2/databases/databases`, read from a rooted phone or
//! a backup). SQLite, table `accounts`: `email` (the label, sometimes `issuer:name`),
//! `secret` (base32), `counter`, `type` (0 = TOTP, 1 = HOTP), `issuer` (added in later
//! versions; may be missing or empty), `original_name`. The app has no other settings:
//! TOTP is always SHA-1, 6 digits, 30 seconds. Learned from the columns the app's public
//! source (google/google-authenticator-android, `AccountDb`) creates and from Aegis's
//! `GoogleAuthImporter`. Opened with the bounds of [`super::sqlite_file`].

use super::sqlite_file::{self, Table};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::GoogleAuthenticatorDb;
const TYPE_TOTP: i64 = 0;
const TYPE_HOTP: i64 = 1;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    let table = sqlite_file::read_table(FORMAT, data, "accounts")?;
    table.require_columns(FORMAT, "accounts", &["email", "secret"])?;
    let mut report = ReportBuilder::new();
    for row in 0..table.len() {
        let email = table.text(row, "email").unwrap_or_default();
        let name = email.to_string();
        let result = account(&table, row, &email).map(|account| (account, EntryMeta::default()));
        report.record(row, name, result);
    }
    Ok(report.finish())
}

fn account(table: &Table, row: usize, email: &str) -> Result<crate::account::Account, String> {
    let secret = table.text(row, "secret").ok_or("no secret")?;
    // Older versions kept the issuer only as the label's `issuer:` prefix.
    let (prefix, label) = match email.split_once(':') {
        Some((prefix, label)) => (prefix, label),
        None => ("", email),
    };
    let issuer = table
        .text(row, "issuer")
        .filter(|issuer| !issuer.trim().is_empty());
    let issuer = issuer.as_deref().map(String::as_str).unwrap_or(prefix);
    let kind = match table.integer(row, "type").unwrap_or(TYPE_TOTP) {
        TYPE_TOTP => "totp",
        TYPE_HOTP => "hotp",
        other => return Err(format!("unsupported type {other}")),
    };
    let counter = match table.integer(row, "counter") {
        Some(n) => Some(u64::try_from(n).map_err(|_| "negative counter")?),
        None => None,
    };
    Fields {
        issuer,
        name: label,
        secret_base32: &secret,
        kind,
        algorithm: None,
        digits: None,
        period: None,
        counter,
    }
    .account()
}
