//! 2FAS backups written by Countersign: schema 4, the layout `twofas.rs` reads and 2FAS's
//! own `BackupContent` / `BackupService` (twofas-android) write. Plain: `services` holds the
//! accounts. Encrypted: `services` is empty, `servicesEncrypted` = `b64(ct‖tag):b64(salt):
//! b64(iv)` — AES-256-GCM of the services' JSON under PBKDF2-HMAC-SHA256(password, salt,
//! 10,000 iterations) — and `reference` is 2FAS's fixed reference text sealed the same way
//! (same key and salt, its own IV), which 2FAS decrypts to check the password.
//!
//! 2FAS holds TOTP, HOTP and Steam (`tokenType` STEAM) with their algorithm, digits, period
//! and counter, and one group per service: an entry's first tag becomes its group; further
//! tags and notes are named in a notice.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::export::{Export, ExportNotice};
use crate::account::{Account, OtpKind};
use crate::vault::{Entry, EntryMeta};

const PBKDF2_ITERATIONS: u32 = 10_000;
/// 2FAS's salt length (bytes) for backup keys.
const SALT_BYTES: usize = 256;
/// The text 2FAS seals as `reference` to verify a backup password (`BackupContent.Reference`
/// in twofas-android): a constant of the format, not a secret.
const REFERENCE: &str = "tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3HkdGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnDlGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXU7KyoJujd";

/// A 2FAS backup of `entries`, encrypted when `password` is given.
pub fn export(entries: &[Entry], password: Option<&str>) -> Export {
    let mut groups: Vec<String> = Vec::new();
    let mut notices = Vec::new();
    let mut skipped = Vec::new();
    let services: Vec<Value> = super::export::without_pin_kinds(entries, "2FAS", &mut skipped)
        .filter_map(|(index, entry)| {
            if let Some(reason) = not_held(&entry.meta) {
                notices.push(ExportNotice {
                    index,
                    name: entry.account.display_name(),
                    skipped: false,
                    reason: reason.into(),
                });
            }
            let group = entry
                .meta
                .tags
                .first()
                .map(|tag| group_id(&mut groups, tag));
            service(index, &entry.account, group)
        })
        .collect();
    notices.append(&mut skipped);
    notices.sort_by_key(|notice| notice.index);
    let groups: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, name)| json!({"id": format!("group-{i}"), "name": name, "isExpanded": true}))
        .collect();
    let mut file = json!({
        "services": services,
        "groups": groups,
        "updatedAt": 0,
        "schemaVersion": 4,
        "appVersionCode": 0,
        "appVersionName": "Countersign",
        "appOrigin": "android",
    });
    if let Some(password) = password {
        let plain = Zeroizing::new(serde_json::to_vec(&file["services"]).unwrap_or_default());
        let mut salt = [0u8; SALT_BYTES];
        rand::fill(&mut salt[..]);
        let mut key = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, PBKDF2_ITERATIONS, &mut key[..]);
        file["servicesEncrypted"] = Value::String(seal(&key, &salt, &plain));
        file["reference"] = Value::String(seal(&key, &salt, REFERENCE.as_bytes()));
        file["services"] = json!([]);
    }
    let bytes = Zeroizing::new(serde_json::to_vec_pretty(&file).unwrap_or_default());
    Export::new(bytes, entries.len(), notices)
}

/// What of `meta` a 2FAS service cannot hold, if anything.
fn not_held(meta: &EntryMeta) -> Option<&'static str> {
    match (meta.tags.len() > 1, !meta.notes.is_empty()) {
        (true, true) => Some(
            "2FAS holds one group per service and no notes: only the first tag is kept, \
             the notes are not written",
        ),
        (true, false) => Some("2FAS holds one group per service: only the first tag is kept"),
        (false, true) => Some("2FAS holds no notes: the notes are not written"),
        (false, false) => None,
    }
}

/// The id of the group called `name`, added to `groups` when new.
fn group_id(groups: &mut Vec<String>, name: &str) -> String {
    let index = match groups.iter().position(|g| g == name) {
        Some(index) => index,
        None => {
            groups.push(name.to_owned());
            groups.len() - 1
        }
    };
    format!("group-{index}")
}

/// A 2FAS service for `account`, or `None` for a kind 2FAS lacks (it has TOTP, HOTP and
/// Steam only; `without_pin_kinds` has already named those).
fn service(position: usize, account: &Account, group: Option<String>) -> Option<Value> {
    let params = &account.params;
    let (token_type, period, counter) = match params.kind() {
        OtpKind::Totp { period } => ("TOTP", period, None),
        OtpKind::Hotp { counter } => ("HOTP", 30, Some(counter)),
        OtpKind::Steam => ("STEAM", 30, None),
        OtpKind::Yandex | OtpKind::Motp => return None,
    };
    let issuer = account.issuer.clone().unwrap_or_default();
    let mut otp = json!({
        "label": if issuer.is_empty() { account.label.clone() } else { format!("{issuer}:{}", account.label) },
        "account": account.label,
        "issuer": issuer,
        "digits": params.digits(),
        "period": period,
        "algorithm": params.algorithm().to_string(),
        "tokenType": token_type,
        "source": "Link",
    });
    if let Some(counter) = counter {
        otp["counter"] = json!(counter);
    }
    Some(json!({
        "name": issuer,
        "secret": account.secret.to_base32(),
        "updatedAt": 0,
        "otp": otp,
        "order": {"position": position},
        "groupId": group,
    }))
}

/// `b64(ciphertext‖tag):b64(salt):b64(iv)` under `key`, with a fresh IV.
fn seal(key: &[u8; 32], salt: &[u8], plaintext: &[u8]) -> String {
    let mut iv = [0u8; 12];
    rand::fill(&mut iv[..]);
    let sealed = Aes256Gcm::new(&(*key).into())
        .encrypt(&Nonce::from(iv), plaintext)
        .unwrap_or_default();
    format!(
        "{}:{}:{}",
        STANDARD.encode(sealed),
        STANDARD.encode(salt),
        STANDARD.encode(iv)
    )
}
