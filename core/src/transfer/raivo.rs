//! Raivo OTP (iOS) exports: `raivo-otp-export.zip`, a password-protected zip (SSZipArchive,
//! WinZip AES) holding `raivo-otp-export.json` — a JSON array with one object per token —
//! and an HTML page of the same tokens (not read). Learned from Raivo's own export and
//! import code (`DataExportFeature.swift`, `DataImportFeature.swift` in
//! raivo-otp/ios-application): every field is a string — `kind` (`TOTP`/`HOTP`),
//! `issuer`, `account`, `secret` (base32), `algorithm`, `digits`, `timer` (seconds),
//! `counter`, plus `pinned`, `iconType`, `iconValue` (not imported: icons are references
//! into Raivo's own icon service). Numbers written as JSON numbers are read too.

use serde_json::Value;

use super::kdf::KdfBudget;
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder, archive};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::Raivo;
/// The JSON entry of Raivo's archive.
pub(crate) const JSON_ENTRY: &str = "raivo-otp-export.json";

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let json = archive::read_entry(
        FORMAT,
        data,
        archive::Entry::Named(JSON_ENTRY),
        archive::APP_ARCHIVE,
        password,
        budget,
    )?;
    let tokens: Vec<Value> = super::json::parse(FORMAT, &json)?;
    let mut report = ReportBuilder::new();
    for (index, token) in tokens.iter().enumerate() {
        let issuer = text(token, "issuer").unwrap_or_default();
        let account = text(token, "account").unwrap_or_default();
        let name = if issuer.is_empty() {
            account.clone()
        } else {
            format!("{issuer}: {account}")
        };
        let result = read_token(token, &issuer, &account);
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn read_token(
    token: &Value,
    issuer: &str,
    account: &str,
) -> Result<(crate::account::Account, EntryMeta), String> {
    let secret = text(token, "secret").ok_or("no secret")?;
    let kind = text(token, "kind").unwrap_or_else(|| "TOTP".to_owned());
    let algorithm = text(token, "algorithm");
    let account = Fields {
        issuer,
        name: account,
        secret_base32: &secret,
        kind: &kind,
        algorithm: algorithm.as_deref(),
        digits: number(token, "digits")?
            .map(|d| u32::try_from(d).map_err(|_| "digits out of range"))
            .transpose()?,
        period: number(token, "timer")?
            .map(|p| u32::try_from(p).map_err(|_| "timer out of range"))
            .transpose()?,
        counter: number(token, "counter")?,
    }
    .account()?;
    Ok((account, EntryMeta::default()))
}

/// A field Raivo writes as a string (a number is accepted as its decimal text).
fn text(token: &Value, key: &str) -> Option<String> {
    match token.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A numeric field written as a string (`"30"`) or a number; absent or empty is `None`.
fn number(token: &Value, key: &str) -> Result<Option<u64>, String> {
    match token.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(format!("{key} is not a count")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{key} is not a number")),
        Some(_) => Err(format!("{key} is not a number")),
    }
}
