//! Aegis vault JSON (Aegis's `docs/vault.md`): plain, or encrypted with AES-256-GCM under a
//! master key that password slots wrap with scrypt-derived keys.
//!
//! Entry types `totp`, `hotp`, `steam`, and the two with a PIN in `info.pin` (Aegis's
//! `OtpInfo.fromJson`, `YandexInfo`, `MotpInfo`): `yandex` (base32 secret of 16 bytes, or
//! 26 with its checksum; SHA256, 8, 30 s) and `motp` (base32 secret; MD5, 6, 10 s).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use data_encoding::HEXLOWER;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder, hex};
use crate::account::{Account, OtpKind};
use crate::secret::Secret;
use crate::vault::{Entry, EntryMeta};

const FORMAT: ImportFormat = ImportFormat::Aegis;
/// Aegis's own scrypt cost: N = 2^15, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 15;

#[derive(Deserialize)]
struct File {
    header: Header,
    db: Value,
}

#[derive(Deserialize)]
struct Header {
    slots: Option<Vec<Slot>>,
    params: Option<GcmParams>,
}

#[derive(Deserialize)]
struct Slot {
    #[serde(rename = "type")]
    kind: u32,
    key: String,
    key_params: GcmParams,
    n: Option<u64>,
    r: Option<u32>,
    p: Option<u32>,
    salt: Option<String>,
}

#[derive(Deserialize)]
struct GcmParams {
    nonce: String,
    tag: String,
}

fn gcm_open(key: &[u8], nonce: &str, ciphertext: &[u8], tag: &str) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = Aes256Gcm::new_from_slice(key).ok()?;
    let nonce: [u8; 12] = hex(nonce)?.try_into().ok()?;
    let message = [ciphertext, &hex(tag)?].concat();
    cipher
        .decrypt(&Nonce::from(nonce), message.as_slice())
        .ok()
        .map(Zeroizing::new)
}

fn gcm_seal(key: &[u8], plaintext: &[u8]) -> (Vec<u8>, Value) {
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce[..]);
    let cipher =
        Aes256Gcm::new_from_slice(key).unwrap_or_else(|_| Aes256Gcm::new(&Default::default()));
    let mut sealed = cipher
        .encrypt(&Nonce::from(nonce), plaintext)
        .unwrap_or_default();
    let tag = sealed.split_off(sealed.len().saturating_sub(16));
    (
        sealed,
        json!({"nonce": HEXLOWER.encode(&nonce), "tag": HEXLOWER.encode(&tag)}),
    )
}

fn scrypt_key(
    password: &str,
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Option<Zeroizing<[u8; 32]>> {
    let params = scrypt::Params::new(log_n, r, p).ok()?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &params, &mut out[..]).ok()?;
    Some(out)
}

/// A password slot whose scrypt settings passed the bounds, ready to try.
struct PasswordSlot<'a> {
    slot: &'a Slot,
    salt: Vec<u8>,
    kdf: Kdf,
}

/// Every password slot, checked and charged to one budget before the first derivation:
/// a file with too many slots or too costly a setting is refused without any scrypt run.
fn password_slots<'a>(
    slots: &'a [Slot],
    budget: &mut KdfBudget,
) -> Result<Vec<PasswordSlot<'a>>, ImportError> {
    let mut ready = Vec::new();
    for slot in slots.iter().filter(|s| s.kind == 1) {
        let (Some(n), Some(r), Some(p), Some(salt)) =
            (slot.n, slot.r, slot.p, slot.salt.as_deref().and_then(hex))
        else {
            continue;
        };
        let kdf = Kdf::scrypt(n, r, p)
            .ok_or_else(|| ImportError::invalid(FORMAT, "invalid scrypt parameters"))?;
        budget.charge(kdf)?;
        ready.push(PasswordSlot { slot, salt, kdf });
    }
    Ok(ready)
}

fn master_key(
    slots: &[Slot],
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let ready = password_slots(slots, budget)?;
    if ready.is_empty() {
        return Err(ImportError::Unsupported(
            "no password slot in this Aegis vault".into(),
        ));
    }
    for PasswordSlot { slot, salt, kdf } in ready {
        let Kdf::Scrypt { log_n, r, p } = kdf else {
            continue;
        };
        let kek = scrypt_key(password, &salt, log_n, r, p)
            .ok_or_else(|| ImportError::invalid(FORMAT, "bad scrypt parameters"))?;
        let wrapped =
            hex(&slot.key).ok_or_else(|| ImportError::invalid(FORMAT, "slot key is not hex"))?;
        if let Some(key) = gcm_open(
            &kek[..],
            &slot.key_params.nonce,
            &wrapped,
            &slot.key_params.tag,
        ) {
            return Ok(key);
        }
    }
    Err(ImportError::WrongPassword)
}

/// The decrypted `db` of an encrypted vault.
fn decrypt_db(
    file: &File,
    slots: &[Slot],
    encoded: &str,
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<Value, ImportError> {
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let key = master_key(slots, password, budget)?;
    let params = file
        .header
        .params
        .as_ref()
        .ok_or_else(|| ImportError::invalid(FORMAT, "no encryption parameters"))?;
    let ciphertext = STANDARD
        .decode(encoded)
        .map_err(|_| ImportError::invalid(FORMAT, "db is not base64"))?;
    let db = gcm_open(&key, &params.nonce, &ciphertext, &params.tag)
        .ok_or(ImportError::WrongPassword)?;
    super::json::parse(FORMAT, &db)
}

/// One entry of the `db` as an account with its tags and notes.
fn entry_account(
    entry: &Value,
    name: &str,
    groups: &HashMap<String, String>,
) -> Result<(Account, EntryMeta), String> {
    let info = entry.get("info").ok_or("no info")?;
    let number = |key: &str| info.get(key).and_then(Value::as_u64);
    let kind = entry.get("type").and_then(Value::as_str).ok_or("no type")?;
    let fields = Fields {
        issuer: entry.get("issuer").and_then(Value::as_str).unwrap_or(""),
        name,
        secret_base32: info
            .get("secret")
            .and_then(Value::as_str)
            .ok_or("no secret")?,
        kind,
        algorithm: info.get("algo").and_then(Value::as_str),
        digits: number("digits").map(|d| d as u32),
        period: number("period").map(|p| p as u32),
        counter: number("counter"),
    };
    let secret = Secret::from_base32(fields.secret_base32).map_err(|e| e.to_string())?;
    let pin = info.get("pin").and_then(Value::as_str);
    let account = fields.account_with_pin(secret, pin)?;
    let mut tags: Vec<String> = entry
        .get("groups")
        .and_then(Value::as_array)
        .map(|ids| super::tags_for(ids.iter().filter_map(Value::as_str), groups))
        .unwrap_or_default();
    // Vaults before Aegis 3 named one group per entry directly.
    if let Some(group) = entry.get("group").and_then(Value::as_str) {
        tags.push(group.to_owned());
    }
    if entry.get("favorite").and_then(Value::as_bool) == Some(true) {
        tags.push("favorite".to_owned());
    }
    let notes = entry
        .get("note")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let meta = EntryMeta {
        tags,
        notes,
        icon: None,
    };
    Ok((account, meta))
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let file: File = super::json::parse(FORMAT, data)?;
    let decrypted;
    let db = match (&file.header.slots, &file.db) {
        (Some(slots), Value::String(encoded)) => {
            decrypted = decrypt_db(&file, slots, encoded, password, budget)?;
            &decrypted
        }
        (_, db @ Value::Object(_)) => db,
        _ => {
            return Err(ImportError::invalid(
                FORMAT,
                "db is neither an object nor encrypted",
            ));
        }
    };
    let entries = db
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no entries"))?;
    let groups = super::named_ids(db.get("groups"), "uuid");
    let mut report = ReportBuilder::new();
    for (index, entry) in entries.iter().enumerate() {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let result = entry_account(entry, &name, &groups);
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn uuid() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = HEXLOWER.encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An account's Aegis `type` and `info`: the secret in base32, `algo` (`MD5` for mOTP),
/// `digits`, `period` or `counter`, and `pin` for Yandex.Key and mOTP.
fn entry_info(account: &Account) -> (&'static str, Value) {
    let params = account.params;
    let mut info = json!({
        "secret": account.secret.to_base32(),
        "algo": params.algorithm_name(),
        "digits": params.digits(),
    });
    match params.kind() {
        OtpKind::Hotp { counter } => info["counter"] = json!(counter),
        _ => info["period"] = json!(params.period()),
    }
    if let Some(pin) = &account.pin {
        info["pin"] = json!(pin.expose());
    }
    (params.kind().name(), info)
}

/// Writes entries as an Aegis vault, encrypted with `password` when given.
pub fn export(entries: &[Entry], password: Option<&str>) -> Zeroizing<String> {
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut json_entries = Vec::new();
    for entry in entries {
        let account = &entry.account;
        let group_ids: Vec<String> = entry
            .meta
            .tags
            .iter()
            .filter(|t| t.as_str() != "favorite")
            .map(|tag| match groups.iter().find(|(_, name)| name == tag) {
                Some((id, _)) => id.clone(),
                None => {
                    let id = uuid();
                    groups.push((id.clone(), tag.clone()));
                    id
                }
            })
            .collect();
        let (kind, info) = entry_info(account);
        json_entries.push(json!({
            "type": kind,
            "uuid": uuid(),
            "name": account.label,
            "issuer": account.issuer.clone().unwrap_or_default(),
            "note": entry.meta.notes,
            "favorite": entry.meta.tags.iter().any(|t| t == "favorite"),
            "icon": null,
            "info": info,
            "groups": group_ids,
        }));
    }
    let db = json!({
        "version": 3,
        "entries": json_entries,
        "groups": groups.iter().map(|(uuid, name)| json!({"uuid": uuid, "name": name})).collect::<Vec<_>>(),
    });
    let file = match password {
        None => json!({"version": 1, "header": {"slots": null, "params": null}, "db": db}),
        Some(password) => {
            let mut master = Zeroizing::new([0u8; 32]);
            rand::fill(&mut master[..]);
            let mut salt = [0u8; 32];
            rand::fill(&mut salt[..]);
            let kek = scrypt_key(password, &salt, SCRYPT_LOG_N, 8, 1).unwrap_or_default();
            let (wrapped, key_params) = gcm_seal(&kek[..], &master[..]);
            let plain = Zeroizing::new(db.to_string());
            let (ciphertext, params) = gcm_seal(&master[..], plain.as_bytes());
            json!({
                "version": 1,
                "header": {
                    "slots": [{"type": 1, "uuid": uuid(), "key": HEXLOWER.encode(&wrapped), "key_params": key_params,
                               "n": 1u64 << SCRYPT_LOG_N, "r": 8, "p": 1, "salt": HEXLOWER.encode(&salt),
                               "repaired": true, "is_backup": false}],
                    "params": params,
                },
                "db": STANDARD.encode(ciphertext),
            })
        }
    };
    Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
}
