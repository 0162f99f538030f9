//! andOTP backups, every generation (andOTP `Utilities/BackupHelper.java`,
//! `EncryptionHelper.java`, `Database/Entry.java`; Aegis `AndOtpImporter.java`):
//!
//! - plain JSON: a list of entries (`secret` base32, `issuer`, `label`, `digits`, `type`
//!   `TOTP`/`HOTP`/`STEAM`, `algorithm`, `period` or `counter`, `tags`, `thumbnail`).
//!   The oldest lists have no `issuer` (the label was `Issuer - Name`) and may lack `type`
//!   (andOTP then reads TOTP);
//! - encrypted `.json.aes` (current): iterations (4 bytes, big endian), salt (12), IV (12),
//!   AES-256-GCM ciphertext‖tag; key = PBKDF2-HMAC-SHA1(password, salt, iterations, 256
//!   bits);
//! - encrypted `.json.aes` (older releases): IV (12) ‖ AES-256-GCM ciphertext‖tag under
//!   SHA-256(password) — no header, so it is tried first (one hash, and the GCM tag tells)
//!   before the file's first bytes are read as an iteration count;
//! - OpenPGP `.json.gpg` (ASCII-armoured, encrypted to the user's OpenPGP key through
//!   OpenKeychain): refused with a clear message — the private key lives in OpenKeychain,
//!   and `gpg --decrypt` turns the file into the plain JSON read here.

use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::AndOtp;
const NONCE: usize = 12;
const SALT: usize = 12;
const TAG: usize = 16;
/// How an ASCII-armoured OpenPGP message starts.
pub const PGP_ARMOR: &str = "-----BEGIN PGP MESSAGE-----";

/// The older generation: IV ‖ ciphertext‖tag under SHA-256(password).
fn decrypt_sha256_generation(data: &[u8], password: &str) -> Option<Zeroizing<Vec<u8>>> {
    let key = Zeroizing::new(Sha256::digest(password.as_bytes()));
    let (iv, ciphertext) = data.split_at_checked(NONCE)?;
    super::aes_gcm_open(&key, iv, ciphertext).ok()
}

fn decrypt(
    data: &[u8],
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if data.len() < NONCE + TAG {
        return Err(ImportError::invalid(
            FORMAT,
            "too short for an encrypted backup",
        ));
    }
    if let Some(plain) = decrypt_sha256_generation(data, password) {
        return Ok(plain);
    }
    if data.len() < 4 + SALT + NONCE + TAG {
        return Err(ImportError::WrongPassword);
    }
    let iterations = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    budget
        .charge(Kdf::Pbkdf2 { iterations })
        .map_err(|error| match error {
            // An older-generation file read with another password lands here too: its
            // first bytes are a random IV, not an iteration count.
            ImportError::ExcessiveKdf { reason } => ImportError::ExcessiveKdf {
                reason: format!(
                    "{reason}, or an older andOTP backup (SHA-256 key) and another password"
                ),
            },
            other => other,
        })?;
    let (salt, rest) = data[4..].split_at(SALT);
    let (iv, ciphertext) = rest.split_at(NONCE);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, iterations, &mut key[..]);
    super::aes_gcm_open(&key[..], iv, ciphertext)
}

/// Whether `data` is an ASCII-armoured OpenPGP message (andOTP's `.json.gpg`).
pub fn is_pgp_armored(data: &[u8]) -> bool {
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| data[i..].starts_with(PGP_ARMOR.as_bytes()))
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    if is_pgp_armored(data) {
        return Err(ImportError::Unsupported(
            "this is an OpenPGP-encrypted andOTP backup (.json.gpg): decrypt it with the \
             OpenPGP key it was made for (e.g. `gpg --decrypt FILE > backup.json`) and import \
             the JSON"
                .into(),
        ));
    }
    let plain;
    let json: &[u8] = if data
        .first()
        .is_some_and(|b| *b == b'[' || b.is_ascii_whitespace())
    {
        data
    } else {
        plain = decrypt(data, password.ok_or(ImportError::PasswordRequired)?, budget)?;
        &plain
    };
    let entries: Vec<Value> = super::json::parse(FORMAT, json)?;
    let mut report = ReportBuilder::new();
    for (index, entry) in entries.iter().enumerate() {
        let label = entry.get("label").and_then(Value::as_str).unwrap_or("");
        let (issuer, name) = issuer_and_name(entry, label);
        let result = entry_account(entry, issuer, name);
        report.record(index, label.to_owned(), result);
    }
    Ok(report.finish())
}

/// The issuer and account name: the oldest backups have no `issuer` and wrote
/// `Issuer - Name` into the label (split at the first ` - `, as Aegis does).
fn issuer_and_name<'a>(entry: &'a Value, label: &'a str) -> (&'a str, &'a str) {
    match entry.get("issuer") {
        Some(issuer) => (issuer.as_str().unwrap_or(""), label),
        None => label.split_once(" - ").unwrap_or(("", label)),
    }
}

fn entry_account(entry: &Value, issuer: &str, name: &str) -> Result<(Account, EntryMeta), String> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    let number = |key: &str| entry.get(key).and_then(Value::as_u64);
    let small = |key: &str| {
        number(key)
            .map(|n| u32::try_from(n).map_err(|_| format!("{key} out of range")))
            .transpose()
    };
    let account = Fields {
        issuer,
        name,
        secret_base32: text("secret").ok_or("no secret")?,
        // andOTP reads an entry without a type as TOTP.
        kind: text("type").unwrap_or("TOTP"),
        algorithm: text("algorithm"),
        digits: small("digits")?,
        period: small("period")?,
        counter: number("counter"),
    }
    .account()?;
    let tags = entry
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .take(super::MAX_TAGS_PER_ENTRY)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let icon = text("thumbnail")
        .filter(|t| !t.is_empty() && *t != "Default")
        .map(str::to_owned);
    let meta = EntryMeta {
        tags,
        notes: String::new(),
        icon,
    };
    Ok((account, meta))
}
