//! Steam Guard secrets as JSON: a Steam Desktop Authenticator `.maFile`, the Steam Android
//! app's `files/Steamguard-<steamid>` file (older app versions), or the later app file
//! holding several under `accounts` (an object keyed by Steam id). Each account object has
//! `shared_secret` (base64, the TOTP key), `account_name` (the login name), and
//! `revocation_code` (kept in the notes: it is what removes the authenticator from the
//! account if this device is lost); `identity_secret` (trade confirmations) and the session
//! data are not imported — the vault makes codes, it does not confirm trades.
//!
//! Codes are Steam's: HMAC-SHA-1, 30 s, 5 characters of Steam's alphabet. Learned from
//! Jessecar96/SteamDesktopAuthenticator (`SteamGuardAccount` fields) and Aegis's
//! `SteamImporter` (the `accounts` variant). An SDA maFile encrypted by SDA is base64 text
//! whose salt and IV live in SDA's `manifest.json`; it is refused with that explanation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::Steam;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    if looks_encrypted(data) {
        return Err(ImportError::Unsupported(
            "this Steam Desktop Authenticator file is encrypted; its salt and IV are in SDA's \
             manifest.json: remove the encryption in SDA (Manage encryption) and import the \
             plain .maFile"
                .to_owned(),
        ));
    }
    let file: Value = super::json::parse(FORMAT, data)?;
    let entries: Vec<&Value> = match &file {
        Value::Array(items) => items.iter().collect(),
        Value::Object(object) => match object.get("accounts") {
            Some(Value::Object(accounts)) => accounts.values().collect(),
            Some(Value::Array(accounts)) => accounts.iter().collect(),
            Some(_) => return Err(ImportError::invalid(FORMAT, "accounts is not a list")),
            None => vec![&file],
        },
        _ => return Err(ImportError::invalid(FORMAT, "not a Steam Guard object")),
    };
    let mut report = ReportBuilder::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let name = entry
            .get("account_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let result = account(entry, &name).map(|account| (account, meta(entry)));
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn account(entry: &Value, name: &str) -> Result<Account, String> {
    let encoded = entry
        .get("shared_secret")
        .and_then(Value::as_str)
        .ok_or("no shared_secret")?;
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| "shared_secret is not base64")?;
    let secret = Secret::from_bytes(bytes).map_err(|e| e.to_string())?;
    super::steam_account(name, secret)
}

fn meta(entry: &Value) -> EntryMeta {
    let notes = entry
        .get("revocation_code")
        .and_then(Value::as_str)
        .filter(|code| !code.is_empty())
        .map(|code| format!("Steam revocation code: {code}"))
        .unwrap_or_default();
    EntryMeta {
        tags: Vec::new(),
        notes,
        icon: None,
    }
}

/// SDA's encrypted maFile: one line of base64, no JSON.
fn looks_encrypted(data: &[u8]) -> bool {
    let text = data.trim_ascii();
    text.len() >= 24
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}
