//! TOTP Authenticator (`com.authenticator.authservice2`, Binary Boys), learned from Aegis's
//! `TotpAuthenticatorImporter.java`:
//!
//! - the backup file: base64 of AES-256-CBC (PKCS#7 padding, an all-zero IV) under
//!   SHA-256(password). When the user set no backup password the app uses the built-in
//!   password `TotpAuthenticator`, tried here when none is given (and after a given one).
//!   The plaintext is a JSON object whose first *key* is the account list as JSON text;
//! - the app's own `shared_prefs/TOTP_Authenticator_Preferences.xml`, whose
//!   `STATIC_TOTP_CODES_LIST` string is that account list.
//!
//! The list holds objects (older releases: JSON strings of objects) with `name`, `issuer`,
//! `key` and `base` (16, 32 or 64: how `key` is written). Every account is TOTP with
//! SHA-1, 6 digits and 30 seconds: the app stores no other parameter.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder, prefs_xml};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::TotpAuthenticator;
/// The preference holding the accounts in the app's own storage.
pub const PREF_KEY: &str = "STATIC_TOTP_CODES_LIST";
/// The password the app encrypts with when the user chose none.
const BUILT_IN_PASSWORD: &str = "TotpAuthenticator";

pub fn import(data: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
    if super::freeotp::is_prefs_xml(data) {
        let prefs = prefs_xml::parse(FORMAT, data)?;
        let list = prefs.string(PREF_KEY).ok_or_else(|| {
            ImportError::invalid(FORMAT, format!("no {PREF_KEY} in the preferences"))
        })?;
        return import_list(list.as_bytes());
    }
    let ciphertext = decode_base64(data)?;
    let list = decrypt(&ciphertext, password)?;
    import_list(&list)
}

/// Whether `data` looks like the backup: base64 text (line breaks allowed) of whole AES
/// blocks. Only the characters and the length are checked.
pub fn looks_like_backup(data: &[u8]) -> bool {
    let mut symbols = 0usize;
    for &b in data {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => symbols += 1,
            b'\n' | b'\r' => {}
            _ => return false,
        }
    }
    // 4 symbols carry 3 bytes; a multiple of 16 bytes is a multiple of 64 symbols when
    // unpadded, else ends in padding.
    symbols >= 24 && symbols.is_multiple_of(4) && decode_base64(data).is_ok()
}

/// The backup's bytes from its base64 text (line breaks allowed).
fn decode_base64(data: &[u8]) -> Result<Vec<u8>, ImportError> {
    let text: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD
        .decode(&text)
        .map_err(|_| ImportError::invalid(FORMAT, "the backup is not base64"))?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return Err(ImportError::invalid(
            FORMAT,
            "the backup is not whole AES blocks",
        ));
    }
    Ok(bytes)
}

/// The account list, decrypted with the given password or the built-in one.
fn decrypt(ciphertext: &[u8], password: Option<&str>) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let candidates = password.into_iter().chain([BUILT_IN_PASSWORD]);
    for candidate in candidates {
        if let Some(list) = open(ciphertext, candidate) {
            return Ok(list);
        }
    }
    Err(match password {
        None => ImportError::PasswordRequired,
        Some(_) => ImportError::WrongPassword,
    })
}

/// The list text inside the backup, or `None` if `password` does not open it (CBC has no
/// tag: a wrong key shows as bad padding or a plaintext that is not the expected JSON).
fn open(ciphertext: &[u8], password: &str) -> Option<Zeroizing<Vec<u8>>> {
    let key = Zeroizing::new(Sha256::digest(password.as_bytes()));
    let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &[0u8; 16]).ok()?;
    let plain = Zeroizing::new(decryptor.decrypt_padded_vec::<Pkcs7>(ciphertext).ok()?);
    let wrapper: Value = super::json::parse(FORMAT, &plain).ok()?;
    let list = wrapper
        .as_object()?
        .keys()
        .find(|key| key.trim_start().starts_with('['))?;
    Some(Zeroizing::new(list.as_bytes().to_vec()))
}

/// The JSON account list.
fn import_list(list: &[u8]) -> Result<ImportReport, ImportError> {
    let entries: Vec<Value> = super::json::parse(FORMAT, list)?;
    let mut report = ReportBuilder::new();
    for (index, entry) in entries.iter().enumerate() {
        // Older releases stored each account as a JSON string.
        let parsed;
        let entry = match entry {
            Value::String(text) => {
                parsed = super::json::parse::<Value>(FORMAT, text.as_bytes()).ok();
                parsed.as_ref().unwrap_or(entry)
            }
            other => other,
        };
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let result = account(entry, &name);
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn account(entry: &Value, name: &str) -> Result<(Account, EntryMeta), String> {
    if !entry.is_object() {
        return Err("the entry is not a JSON object".into());
    }
    let key = entry.get("key").and_then(Value::as_str).ok_or("no key")?;
    let base = entry.get("base").and_then(Value::as_u64).ok_or("no base")?;
    let secret = match base {
        16 => super::hex(key.trim()).ok_or("the key is not hex")?,
        32 => return secret_account(entry, name, Secret::from_base32(key)),
        64 => STANDARD
            .decode(key.trim())
            .map_err(|_| "the key is not base64")?,
        other => return Err(format!("unsupported key encoding: base {other}")),
    };
    secret_account(entry, name, Secret::from_bytes(secret))
}

fn secret_account(
    entry: &Value,
    name: &str,
    secret: Result<Secret, crate::secret::SecretError>,
) -> Result<(Account, EntryMeta), String> {
    let account = Fields {
        issuer: entry.get("issuer").and_then(Value::as_str).unwrap_or(""),
        name,
        secret_base32: "",
        kind: "totp",
        algorithm: None,
        digits: None,
        period: None,
        counter: None,
    }
    .account_with(secret.map_err(|e| e.to_string())?)?;
    Ok((account, EntryMeta::default()))
}
