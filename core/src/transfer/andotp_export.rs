//! andOTP backups written for andOTP to restore (andOTP `Database/Entry.java` `toJSON`,
//! `Utilities/BackupHelper.java` `backupToFile`):
//!
//! - plain: the JSON list of entries andOTP writes — `secret` (base32), `issuer`, `label`,
//!   `digits`, `type` (`TOTP`, `HOTP`, `STEAM`), `algorithm`, `thumbnail`, `last_used`,
//!   `used_frequency`, `period` (TOTP) or `counter` (HOTP), `tags`;
//! - with a password, the current `.json.aes`: iterations (u32, big endian, random in
//!   andOTP's 140,000–160,000) ‖ salt (12) ‖ IV (12) ‖ AES-256-GCM(ciphertext‖tag) under
//!   PBKDF2-HMAC-SHA1(password, salt, iterations).
//!
//! andOTP holds every kind of account the vault has (TOTP, HOTP, Steam; SHA-1/256/512;
//! 6–10 digits: its `Math.pow(10, digits)` saturates at 10 digits to 2^31−1, which leaves
//! a 31-bit code unchanged). What it cannot hold is named per entry: notes (andOTP has
//! none) and icons that are not an andOTP thumbnail name.

use aes_gcm::aead::{Aead, KeyInit};
use serde_json::{Value, json};
use sha1::Sha1;
use zeroize::Zeroizing;

use super::ExportNotice;
use crate::account::OtpKind;
use crate::vault::Entry;

/// andOTP's own range of PBKDF2 iterations (`Constants.PBKDF2_MIN/MAX_BACKUP_ITERATIONS`).
const ITERATIONS: std::ops::RangeInclusive<u32> = 140_000..=160_000;

/// The file's bytes and what andOTP could not hold.
pub(crate) fn export(
    entries: &[Entry],
    password: Option<&str>,
) -> (Zeroizing<Vec<u8>>, Vec<ExportNotice>) {
    let mut notices = Vec::new();
    let mut skipped = Vec::new();
    let list: Vec<Value> = super::export::without_pin_kinds(entries, "andOTP", &mut skipped)
        .map(|(index, entry)| entry_json(index, entry, &mut notices))
        .collect();
    notices.append(&mut skipped);
    notices.sort_by_key(|notice| notice.index);
    let plain = Zeroizing::new(serde_json::to_vec_pretty(&list).unwrap_or_default());
    let bytes = match password {
        None => plain,
        Some(password) => seal(&plain, password),
    };
    (bytes, notices)
}

/// An andOTP thumbnail name: the `EntryThumbnails` enum's constants are identifiers.
fn is_thumbnail_name(icon: &str) -> bool {
    !icon.is_empty()
        && icon.len() <= 64
        && icon.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn entry_json(index: usize, entry: &Entry, notices: &mut Vec<ExportNotice>) -> Value {
    let account = &entry.account;
    let params = account.params;
    let mut notice = |reason: &str| {
        notices.push(ExportNotice {
            index,
            name: account.display_name(),
            skipped: false,
            reason: reason.to_owned(),
        })
    };
    if !entry.meta.notes.is_empty() {
        notice("andOTP has no notes: the entry's notes were left out");
    }
    let thumbnail = match entry.meta.icon.as_deref() {
        Some(icon) if is_thumbnail_name(icon) => icon,
        Some(_) => {
            notice("andOTP shows built-in thumbnails only: the icon was left out");
            "Default"
        }
        None => "Default",
    };
    let mut json = json!({
        "secret": account.secret.to_base32(),
        "issuer": account.issuer.clone().unwrap_or_default(),
        "label": account.label,
        "digits": params.digits(),
        "algorithm": params.algorithm().name(),
        "thumbnail": thumbnail,
        "last_used": 0,
        "used_frequency": 0,
        "tags": entry.meta.tags,
    });
    match params.kind() {
        OtpKind::Totp { period } => {
            json["type"] = json!("TOTP");
            json["period"] = json!(period);
        }
        OtpKind::Hotp { counter } => {
            json["type"] = json!("HOTP");
            json["counter"] = json!(counter);
        }
        OtpKind::Steam => json["type"] = json!("STEAM"),
        // Skipped with a notice before this point (`pin_kind`).
        OtpKind::Yandex | OtpKind::Motp => {}
    }
    json
}

/// The current `.json.aes` layout around `plain`.
fn seal(plain: &[u8], password: &str) -> Zeroizing<Vec<u8>> {
    let span = ITERATIONS.end() - ITERATIONS.start() + 1;
    let mut random = [0u8; 4 + 12 + 12];
    rand::fill(&mut random[..]);
    let offset = u32::from_be_bytes([random[0], random[1], random[2], random[3]]) % span;
    let iterations = ITERATIONS.start() + offset;
    let (salt, iv) = random[4..].split_at(12);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, iterations, &mut key[..]);
    let mut iv_array = [0u8; 12];
    iv_array.copy_from_slice(iv);
    let sealed = aes_gcm::Aes256Gcm::new_from_slice(&key[..])
        .ok()
        .and_then(|cipher| cipher.encrypt(&aes_gcm::Nonce::from(iv_array), plain).ok())
        .unwrap_or_default();
    let mut out = Zeroizing::new(Vec::with_capacity(4 + 24 + sealed.len()));
    out.extend_from_slice(&iterations.to_be_bytes());
    out.extend_from_slice(salt);
    out.extend_from_slice(iv);
    out.extend_from_slice(&sealed);
    out
}
