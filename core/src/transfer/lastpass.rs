//! LastPass Authenticator's export (Settings → Transfer accounts → Export to file): JSON
//! `{"version": 3, "deviceId", "deviceSecret", "localDeviceId", "deviceName", "accounts":
//! […], "folders": [{"id", "name", "isOpened"}]}`. Each account: `issuerName` (as the user
//! renamed it; `originalIssuerName` as enrolled), `userName` / `originalUserName`,
//! `secret` (base32), `algorithm` (`SHA1`, `SHA256`, `SHA512`), `digits`, `timeStep`
//! (seconds), `isFavorite`, `folderData` {`folderId`, `position`}, `pushNotification`,
//! `accountID`, `lmiUserId`, `creationTimestamp`. All accounts are TOTP.
//!
//! The folder becomes a tag, `isFavorite` the tag `favorite`. The `deviceSecret` and push
//! settings belong to LastPass's own push login and are not imported. Learned from the
//! export readers in 2fas-ios (`LastPassData`) and bitwarden/authenticator-android
//! (`LastPassJsonExport`).

use std::collections::HashMap;

use serde_json::Value;

use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::LastPass;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    let file: Value = super::json::parse(FORMAT, data)?;
    let accounts = file
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no accounts"))?;
    let folders = folder_names(file.get("folders"));
    let mut report = ReportBuilder::new();
    for (index, entry) in accounts.iter().enumerate() {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let issuer = text("issuerName")
            .or(text("originalIssuerName"))
            .unwrap_or("");
        let label = text("userName").or(text("originalUserName")).unwrap_or("");
        let name = if label.is_empty() {
            issuer.to_owned()
        } else {
            format!("{issuer}: {label}")
        };
        let result = account(entry, issuer, label).map(|account| (account, meta(entry, &folders)));
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn account(entry: &Value, issuer: &str, label: &str) -> Result<Account, String> {
    let number = |key: &str| -> Result<Option<u32>, String> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("{key} is not a number")),
        }
    };
    Fields {
        issuer,
        name: label,
        secret_base32: entry
            .get("secret")
            .and_then(Value::as_str)
            .ok_or("no secret")?,
        kind: "totp",
        algorithm: entry.get("algorithm").and_then(Value::as_str),
        digits: number("digits")?,
        period: number("timeStep")?,
        counter: None,
    }
    .account()
}

/// Folder ids (numbers in the files seen; text accepted too) to bounded names.
fn folder_names(folders: Option<&Value>) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for folder in folders.and_then(Value::as_array).into_iter().flatten() {
        let id = folder.get("id").and_then(id_text);
        let name = folder.get("name").and_then(Value::as_str);
        if let (Some(id), Some(name)) = (id, name) {
            names.entry(id).or_insert_with(|| super::bounded_tag(name));
        }
    }
    names
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn meta(entry: &Value, folders: &HashMap<String, String>) -> EntryMeta {
    let mut tags = Vec::new();
    let folder = entry
        .get("folderData")
        .and_then(|data| data.get("folderId"))
        .and_then(id_text);
    if let Some(name) = folder.and_then(|id| folders.get(&id)) {
        tags.push(name.clone());
    }
    if entry.get("isFavorite").and_then(Value::as_bool) == Some(true) {
        tags.push("favorite".to_owned());
    }
    EntryMeta {
        tags,
        notes: String::new(),
        icon: None,
    }
}
