//! Proton Authenticator exports, learned from `protonpass/proton-pass-common`
//! (`proton-authenticator/src/entry/exporter.rs`, `password_exporter.rs`, `crypto.rs`,
//! `steam/mod.rs`, `proton-pass-totp/src/totp.rs`).
//!
//! Plain: `{"version": 1, "entries": [{"id", "content": {"uri", "entry_type": "Totp" |
//! "Steam", "name"}, "note"}]}`; a TOTP entry's `uri` is an otpauth URI, a Steam entry's is
//! `steam://SECRET` (base32, or unpadded base64 when the secret came that way).
//!
//! Password-protected: `{"version": 1, "salt": base64(16 bytes), "content":
//! base64(nonce (12) ‖ AES-256-GCM ciphertext‖tag)}` of the plain export, the key
//! Argon2id(password, salt; 19 MiB, 2 passes, 1 lane, 32 bytes, v0x13) and the associated
//! data `proton.authenticator.export.v1`. The cost is the app's constant, charged to the
//! import's budget like every derivation. Spec: docs/formats/stratum-proton.md.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::Value;
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::otpauth;
use crate::secret::Secret;
use crate::vault::{EntryMeta, KdfParams};

const FORMAT: ImportFormat = ImportFormat::ProtonAuthenticator;

/// `derive_password_key`: m = 19 × 1024 KiB, t = 2, p = 1.
pub(crate) const ARGON2: KdfParams = KdfParams {
    memory_kib: 19 * 1024,
    iterations: 2,
    parallelism: 1,
};
pub(crate) const SALT_LEN: usize = 16;
pub(crate) const NONCE_LEN: usize = 12;
/// `EncryptionTag::PasswordExport`'s associated data.
pub(crate) const EXPORT_AAD: &[u8] = b"proton.authenticator.export.v1";

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let file: Value = super::json::parse(FORMAT, data)?;
    check_version(&file)?;
    let decrypted;
    let file = match (file.get("salt"), file.get("content"), file.get("entries")) {
        (Some(salt), Some(content), None) => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            decrypted = decrypt(salt, content, password, budget)?;
            let inner: Value = super::json::parse(FORMAT, &decrypted)?;
            check_version(&inner)?;
            inner
        }
        (None, None, Some(_)) => file,
        _ => {
            return Err(ImportError::invalid(
                FORMAT,
                "neither entries nor an encrypted salt and content",
            ));
        }
    };
    let entries = file
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "entries is not a list"))?;
    let mut report = ReportBuilder::new();
    for (index, entry) in entries.iter().enumerate() {
        let content = entry.get("content");
        let name = content
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let result = entry_account(entry, &name);
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn check_version(file: &Value) -> Result<(), ImportError> {
    match file.get("version").and_then(Value::as_u64) {
        Some(1) => Ok(()),
        Some(other) => Err(ImportError::Unsupported(format!(
            "Proton Authenticator export version {other} is not supported (only version 1)"
        ))),
        None => Err(ImportError::invalid(FORMAT, "no version")),
    }
}

fn decrypt(
    salt: &Value,
    content: &Value,
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let decode = |value: &Value, what: &str| {
        value
            .as_str()
            .and_then(|text| STANDARD.decode(text).ok())
            .ok_or_else(|| ImportError::invalid(FORMAT, format!("{what} is not base64")))
    };
    let salt = decode(salt, "salt")?;
    let sealed = decode(content, "content")?;
    if salt.len() != SALT_LEN {
        return Err(ImportError::invalid(FORMAT, "the salt is not 16 bytes"));
    }
    if sealed.len() < NONCE_LEN + 16 {
        return Err(ImportError::invalid(FORMAT, "the content is too short"));
    }
    budget.charge(Kdf::Argon2id(ARGON2))?;
    let key = ARGON2
        .derive(password.as_bytes(), &salt)
        .ok_or_else(|| ImportError::invalid(FORMAT, "key derivation failed"))?;
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    open_with_aad(key.as_bytes(), nonce, ciphertext)
}

fn open_with_aad(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| ImportError::WrongPassword)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| ImportError::WrongPassword)?;
    let payload = Payload {
        msg: ciphertext,
        aad: EXPORT_AAD,
    };
    cipher
        .decrypt(&aes_gcm::Nonce::from(nonce), payload)
        .map(Zeroizing::new)
        .map_err(|_| ImportError::WrongPassword)
}

fn entry_account(entry: &Value, name: &str) -> Result<(Account, EntryMeta), String> {
    let content = entry.get("content").ok_or("no content")?;
    let uri = content.get("uri").and_then(Value::as_str).ok_or("no uri")?;
    let account = match content.get("entry_type").and_then(Value::as_str) {
        Some("Totp") => totp_account(uri, name)?,
        Some("Steam") => steam_account(uri, name)?,
        Some(other) => return Err(format!("unsupported entry type {other}")),
        None => return Err("no entry type".into()),
    };
    let notes = entry
        .get("note")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok((
        account,
        EntryMeta {
            tags: Vec::new(),
            notes,
            icon: None,
        },
    ))
}

/// The otpauth URI's account; the entry's name labels it when the URI has no label.
fn totp_account(uri: &str, name: &str) -> Result<Account, String> {
    let mut account = otpauth::parse(uri).map_err(|e| e.to_string())?.account;
    if account.label.is_empty() {
        account.label = name.trim().to_owned();
    }
    Ok(account)
}

/// `steam://SECRET`, named by the entry's name. Proton writes the secret back in the
/// encoding it came in: base32 if it reads as base32, else unpadded base64.
fn steam_account(uri: &str, name: &str) -> Result<Account, String> {
    let secret = uri
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("steam://"))
        .map(|_| uri[8..].trim().trim_end_matches('/'))
        .ok_or("the Steam entry's uri is not steam://")?;
    let unpadded = secret.trim_end_matches('=');
    let is_base32 = unpadded
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    let secret = if is_base32 {
        Secret::from_base32(unpadded).map_err(|e| e.to_string())?
    } else {
        let bytes = STANDARD_NO_PAD
            .decode(unpadded)
            .map_err(|_| "the Steam secret is neither base32 nor base64")?;
        Secret::from_bytes(bytes).map_err(|e| e.to_string())?
    };
    super::steam_account(name, secret)
}
