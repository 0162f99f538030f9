//! Stratum (formerly Authenticator Pro) backups, learned from the app's source
//! (`stratumauth/app`, `jamie-mh/AuthenticatorPro`: `Backup.cs`, `StrongBackupEncryption.cs`,
//! `LegacyBackupEncryption.cs`, `Entity/Authenticator.cs`, `AuthenticatorType.cs`) and
//! Aegis's `StratumImporter`. Four shapes reach this module:
//!
//! - plain JSON: `{"Authenticators": [...], "Categories": [...], "AuthenticatorCategories":
//!   [...], "CustomIcons": [...]}`, enums as numbers;
//! - encrypted (current): `"AUTHENTICATORPRO"` ‖ salt (16) ‖ IV (12) ‖ AES-256-GCM
//!   ciphertext‖tag (16) of that JSON, key = Argon2id(password, salt; 64 MiB, 3 passes,
//!   4 lanes, 32 bytes);
//! - encrypted (legacy): `"AuthenticatorPro"` ‖ salt (20) ‖ IV (16) ‖ AES-256-CBC/PKCS#7,
//!   key = PBKDF2-HMAC-SHA1(password, salt, 64,000 iterations, 32 bytes);
//! - the app's own SQLite database (`authenticator.db3`, [`super::stratum_db`]).
//!
//! Every shape becomes the same [`Row`]s, mapped to accounts in one place: TOTP, HOTP and
//! Steam, and the two kinds with a PIN (`Pin`): mOTP (type 3, hex secret, `MobileOtp.cs`)
//! and Yandex.Key (type 5, base32 secret, `YandexOtp.cs`). Spec and test
//! vectors: docs/formats/stratum-proton.md.

use std::collections::HashMap;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use serde_json::Value;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::{EntryMeta, KdfParams};

const FORMAT: ImportFormat = ImportFormat::Stratum;

/// Magic of the current (Argon2id + AES-GCM) encrypted backup.
pub(crate) const HEADER: &[u8; 16] = b"AUTHENTICATORPRO";
/// Magic of the legacy (PBKDF2 + AES-CBC) encrypted backup: the same word, other case.
pub(crate) const LEGACY_HEADER: &[u8; 16] = b"AuthenticatorPro";
pub(crate) const SALT_LEN: usize = 16;
pub(crate) const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// `StrongBackupEncryption`: MemorySize 65536 KiB, Iterations 3, DegreeOfParallelism 4.
pub(crate) const ARGON2: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 4,
};
const LEGACY_SALT_LEN: usize = 20;
const LEGACY_IV_LEN: usize = 16;
const LEGACY_ITERATIONS: u32 = 64_000;

/// One authenticator as every Stratum shape stores it (JSON names / database columns).
#[derive(Default)]
pub(crate) struct Row {
    pub kind: Option<i64>,
    pub issuer: String,
    pub username: String,
    pub secret: Zeroizing<String>,
    pub algorithm: Option<i64>,
    pub digits: Option<i64>,
    pub period: Option<i64>,
    pub counter: Option<i64>,
    pub icon: Option<String>,
    /// The PIN of a Yandex.Key or mOTP authenticator (`Pin`).
    pub pin: Option<Zeroizing<String>>,
}

/// Stratum's `AuthenticatorType` numbers.
pub(crate) mod kind {
    pub const HOTP: i64 = 1;
    pub const TOTP: i64 = 2;
    pub const MOTP: i64 = 3;
    pub const STEAM: i64 = 4;
    pub const YANDEX: i64 = 5;
}

/// A Stratum backup read into rows and category names per authenticator secret.
pub(crate) struct Contents {
    pub rows: Vec<Result<Row, String>>,
    /// Category names by `AuthenticatorSecret` (each list bounded by the tag helpers).
    pub categories: HashMap<String, Vec<String>>,
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let contents = if data.starts_with(super::sqlite_file::SQLITE_MAGIC) {
        super::stratum_db::read(data)?
    } else if data.starts_with(HEADER) {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        from_json(&decrypt(data, password, budget)?)?
    } else if data.starts_with(LEGACY_HEADER) {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        from_json(&decrypt_legacy(data, password, budget)?)?
    } else {
        from_json(data)?
    };
    Ok(report(contents))
}

/// The current scheme: Argon2id, then AES-256-GCM.
fn decrypt(
    data: &[u8],
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let body = &data[HEADER.len()..];
    if body.len() < SALT_LEN + IV_LEN + TAG_LEN {
        return Err(ImportError::invalid(
            FORMAT,
            "too short for an encrypted backup",
        ));
    }
    let (salt, rest) = body.split_at(SALT_LEN);
    let (iv, ciphertext) = rest.split_at(IV_LEN);
    budget.charge(Kdf::Argon2id(ARGON2))?;
    let key = ARGON2
        .derive(password.as_bytes(), salt)
        .ok_or_else(|| ImportError::invalid(FORMAT, "key derivation failed"))?;
    super::aes_gcm_open(key.as_bytes(), iv, ciphertext)
}

/// The legacy scheme: PBKDF2-HMAC-SHA1, then AES-256-CBC with PKCS#7 padding. Without an
/// authentication tag a wrong key shows as bad padding or as text that is not JSON.
fn decrypt_legacy(
    data: &[u8],
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let body = &data[LEGACY_HEADER.len()..];
    let header_len = LEGACY_SALT_LEN + LEGACY_IV_LEN;
    if body.len() < header_len + 16 || !(body.len() - header_len).is_multiple_of(16) {
        return Err(ImportError::invalid(
            FORMAT,
            "not a legacy encrypted backup (length is not salt, IV and whole AES blocks)",
        ));
    }
    let (salt, rest) = body.split_at(LEGACY_SALT_LEN);
    let (iv, ciphertext) = rest.split_at(LEGACY_IV_LEN);
    budget.charge(Kdf::Pbkdf2 {
        iterations: LEGACY_ITERATIONS,
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, LEGACY_ITERATIONS, &mut key[..]);
    let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key[..], iv)
        .map_err(|_| ImportError::WrongPassword)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let plain_len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buffer)
        .map_err(|_| ImportError::WrongPassword)?
        .len();
    buffer.truncate(plain_len);
    if buffer.first() != Some(&b'{') {
        return Err(ImportError::WrongPassword);
    }
    Ok(buffer)
}

/// The JSON backup's authenticators and categories.
fn from_json(data: &[u8]) -> Result<Contents, ImportError> {
    let file: Value = super::json::parse(FORMAT, data)?;
    let authenticators = file
        .get("Authenticators")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no Authenticators list"))?;
    let rows = authenticators.iter().map(row_from_json).collect();
    let names = category_names(
        file.get("Categories")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c.get("Id")?.as_str()?, c.get("Name")?.as_str()?))),
    );
    let links = file
        .get("AuthenticatorCategories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|link| {
            let secret = link.get("AuthenticatorSecret")?.as_str()?;
            let category = link.get("CategoryId")?.as_str()?;
            Some((secret, category))
        });
    Ok(Contents {
        rows,
        categories: categories_by_secret(links, &names),
    })
}

fn row_from_json(entry: &Value) -> Result<Row, String> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    let number = |key: &str| entry.get(key).and_then(Value::as_i64);
    if !entry.is_object() {
        return Err("not an object".into());
    }
    Ok(Row {
        kind: number("Type"),
        issuer: text("Issuer").unwrap_or("").to_owned(),
        username: text("Username").unwrap_or("").to_owned(),
        secret: Zeroizing::new(text("Secret").ok_or("no secret")?.to_owned()),
        algorithm: number("Algorithm"),
        digits: number("Digits"),
        period: number("Period"),
        counter: number("Counter"),
        icon: text("Icon").map(str::to_owned),
        pin: text("Pin").map(|pin| Zeroizing::new(pin.to_owned())),
    })
}

/// Category names by id (names cut like every tag; the first of repeated ids wins).
pub(crate) fn category_names<'a>(
    categories: impl Iterator<Item = (&'a str, &'a str)>,
) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for (id, name) in categories {
        names
            .entry(id.to_owned())
            .or_insert_with(|| super::bounded_tag(name));
    }
    names
}

/// Category names per authenticator secret, from (secret, category id) links.
pub(crate) fn categories_by_secret<'a>(
    links: impl Iterator<Item = (&'a str, &'a str)>,
    names: &HashMap<String, String>,
) -> HashMap<String, Vec<String>> {
    let mut by_secret: HashMap<String, Vec<String>> = HashMap::new();
    for (secret, category) in links {
        let Some(name) = names.get(category) else {
            continue;
        };
        let tags = by_secret.entry(secret.to_owned()).or_default();
        if tags.len() < super::MAX_TAGS_PER_ENTRY && !tags.contains(name) {
            tags.push(name.clone());
        }
    }
    by_secret
}

fn report(contents: Contents) -> ImportReport {
    let mut report = ReportBuilder::new();
    for (index, row) in contents.rows.into_iter().enumerate() {
        let (name, result) = match row {
            Ok(row) => {
                let name = display_name(&row);
                let tags = contents
                    .categories
                    .get(row.secret.as_str())
                    .cloned()
                    .unwrap_or_default();
                let result = account_of(&row, tags);
                if result.is_ok() && motp_secret_in_upper_case(&row) {
                    report.notice(index, name.clone(), MOTP_UPPER_CASE_NOTICE);
                }
                (name, result)
            }
            Err(reason) => (String::new(), Err(reason)),
        };
        report.record(index, name, result);
    }
    report.finish()
}

fn display_name(row: &Row) -> String {
    match (row.issuer.is_empty(), row.username.is_empty()) {
        (false, false) => format!("{} ({})", row.issuer, row.username),
        (false, true) => row.issuer.clone(),
        _ => row.username.clone(),
    }
}

/// Stratum hashes an mOTP secret as the text it holds; the vault keeps the bytes and hashes
/// their lower-case hex (as Aegis does), which is the same text only if it was lower case.
const MOTP_UPPER_CASE_NOTICE: &str = "the mOTP secret was upper-case hex, which Stratum hashes as \
     written and Countersign in lower case (as Aegis does): compare a code before relying on it";

fn motp_secret_in_upper_case(row: &Row) -> bool {
    row.kind == Some(kind::MOTP)
        && row.secret.bytes().any(|b| b.is_ascii_uppercase())
        && super::hex(row.secret.trim()).is_some()
}

/// One row as an account: Stratum's type and algorithm numbers mapped, kinds the vault
/// cannot compute refused with the reason.
pub(crate) fn account_of(row: &Row, tags: Vec<String>) -> Result<(Account, EntryMeta), String> {
    let kind_name = match row.kind {
        Some(kind::HOTP) => "hotp",
        Some(kind::TOTP) => "totp",
        Some(kind::STEAM) => "steam",
        Some(kind::MOTP) => "motp",
        Some(kind::YANDEX) => "yandex",
        Some(other) => return Err(format!("unknown authenticator type {other}")),
        None => return Err("no type".into()),
    };
    let account = match row.kind {
        Some(kind::MOTP | kind::YANDEX) => pin_account(row, kind_name)?,
        _ => standard_account(row, kind_name)?,
    };
    // `@…` names a custom icon image held elsewhere in the backup; only icon-pack names
    // are references that mean something outside Stratum.
    let icon = row
        .icon
        .clone()
        .filter(|icon| !icon.is_empty() && !icon.starts_with('@'));
    Ok((
        account,
        EntryMeta {
            tags,
            notes: String::new(),
            icon,
        },
    ))
}

/// Yandex.Key (`YandexOtp`: a base32 secret of which the first 16 bytes are the key) and
/// mOTP (`MobileOtp`: the secret is hex text); both need the row's PIN. Their algorithm,
/// digits and period are fixed, so the row's are not read.
fn pin_account(row: &Row, kind_name: &str) -> Result<Account, String> {
    let secret = if kind_name == "motp" {
        let bytes = super::hex(row.secret.trim())
            .map(Zeroizing::new)
            .ok_or("the mOTP secret is not hexadecimal, which Countersign cannot hash")?;
        Secret::from_bytes(bytes.to_vec()).map_err(|e| e.to_string())?
    } else {
        let decoded = Secret::from_base32(&row.secret).map_err(|e| e.to_string())?;
        let key = decoded.expose().get(..YANDEX_KEY_LEN).ok_or(
            "a Yandex.Key secret has at least 16 bytes (Stratum refuses shorter ones too)",
        )?;
        Secret::from_bytes(key.to_vec()).map_err(|e| e.to_string())?
    };
    let fields = Fields {
        issuer: &row.issuer,
        name: &row.username,
        secret_base32: "",
        kind: kind_name,
        algorithm: None,
        digits: None,
        period: None,
        counter: None,
    };
    fields.account_with_pin(secret, row.pin.as_ref().map(|pin| pin.as_str()))
}

/// `YandexOtp.SecretByteCount`: Stratum keys Yandex.Key with the first 16 bytes.
const YANDEX_KEY_LEN: usize = 16;

/// TOTP, HOTP and Steam: Stratum's algorithm numbers mapped, digits, period and counter
/// checked.
fn standard_account(row: &Row, kind_name: &str) -> Result<Account, String> {
    let algorithm = match row.algorithm {
        None | Some(0) => "SHA1",
        Some(1) => "SHA256",
        Some(2) => "SHA512",
        Some(other) => return Err(format!("unknown algorithm {other}")),
    };
    let small = |value: Option<i64>, what: &str| -> Result<Option<u32>, String> {
        value
            .map(|v| u32::try_from(v).map_err(|_| format!("{what} {v} is out of range")))
            .transpose()
    };
    Fields {
        issuer: &row.issuer,
        name: &row.username,
        secret_base32: &row.secret,
        kind: kind_name,
        algorithm: Some(algorithm),
        digits: small(row.digits, "digits")?,
        period: small(row.period, "period")?,
        counter: row
            .counter
            .map(|c| u64::try_from(c).map_err(|_| format!("counter {c} is negative")))
            .transpose()?,
    }
    .account()
}
