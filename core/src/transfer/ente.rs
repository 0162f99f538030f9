//! Ente Auth exports, both ways. Plain: otpauth URIs, one per line (extra parameters such as
//! Ente's `codeDisplay` are ignored). Encrypted (Ente's `docs/auth/migration/export.md` and
//! its export code, `EnteAuthExport` / `CryptoUtil.encryptData` in ente-io/ente):
//!
//! ```json
//! {"version": 1,
//!  "kdfParams": {"memLimit": BYTES, "opsLimit": PASSES, "salt": b64(16 bytes)},
//!  "encryptedData": b64(secretstream message), "encryptionNonce": b64(24-byte header)}
//! ```
//!
//! The key is libsodium's `crypto_pwhash` Argon2id v1.3 (32 bytes, one lane, memory
//! `memLimit / 1024` KiB, `opsLimit` passes) of the password and salt; the data is one
//! `crypto_secretstream_xchacha20poly1305` message tagged FINAL (`secretstream.rs`) whose
//! plaintext is the plain export. Base64 is standard, padded (libsodium's ORIGINAL).
//!
//! Each line's `codeDisplay` parameter carries Ente's tags and note (`ente_display.rs`):
//! read into the entry's metadata and written by the export.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::export::{Export, ExportError, ExportNotice};
use super::kdf::{Kdf, KdfBudget};
use super::secretstream::{self, HEADER_BYTES};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder, ente_display, text};
use crate::otpauth;
use crate::vault::{Entry, EntryMeta};

const FORMAT: ImportFormat = ImportFormat::Ente;
/// libsodium's crypto_pwhash_SALTBYTES.
const SALT_BYTES: usize = 16;

/// Argon2id settings of an encrypted export written here: libsodium's MODERATE memory
/// (256 MiB, what Ente itself starts from on low-spec phones and the most a vault derivation
/// may use) with 4 passes — 1 GiB of memory traffic, a quarter of what Ente writes, within
/// what Ente reads (it derives with whatever `kdfParams` says).
pub const EXPORT_MEMLIMIT: u64 = 256 << 20;
pub const EXPORT_OPSLIMIT: u64 = 4;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    version: u64,
    kdf_params: SodiumParams,
    encrypted_data: String,
    encryption_nonce: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SodiumParams {
    mem_limit: u64,
    ops_limit: u64,
    salt: String,
}

/// Whether `data` is Ente's encrypted export (a JSON object with its envelope's keys).
pub(crate) fn is_encrypted_export(json: &serde_json::Value) -> bool {
    json.get("encryptedData").is_some() && json.get("kdfParams").is_some()
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let trimmed = data.trim_ascii_start();
    if !trimmed.starts_with(b"{") {
        return import_lines(data);
    }
    let envelope: Envelope = super::json::parse(FORMAT, trimmed)?;
    if envelope.version != 1 {
        return Err(ImportError::Unsupported(format!(
            "Ente export version {} (only version 1 is known)",
            envelope.version
        )));
    }
    let plaintext = decrypt(&envelope, password, budget)?;
    import_lines(&plaintext)
}

/// The otpauth lines, with the tags and note of each line's `codeDisplay`. A `codeDisplay`
/// that cannot be read loses only the metadata (Ente's own reader skips it too): a notice.
fn import_lines(data: &[u8]) -> Result<ImportReport, ImportError> {
    let mut report = ReportBuilder::new();
    for (index, line) in text::lines(data, FORMAT)? {
        let name = format!("line {}", index + 1);
        let parsed = match otpauth::parse(line) {
            Ok(parsed) => parsed,
            Err(e) => {
                report.fail(index, name, e.to_string());
                continue;
            }
        };
        let meta = ente_display::read(line).unwrap_or_else(|reason| {
            let notice = format!("{reason}: its tags and note were not imported");
            report.notice(index, name.clone(), notice);
            EntryMeta::default()
        });
        report.push(index, parsed.account, meta);
    }
    Ok(report.finish())
}

fn decrypt(
    envelope: &Envelope,
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let decode = |field: &str, text: &str| {
        STANDARD
            .decode(text)
            .map_err(|_| ImportError::invalid(FORMAT, format!("{field} is not base64")))
    };
    let salt = decode("salt", &envelope.kdf_params.salt)?;
    let header: [u8; HEADER_BYTES] = decode("encryptionNonce", &envelope.encryption_nonce)?
        .try_into()
        .map_err(|_| ImportError::invalid(FORMAT, "encryptionNonce is not 24 bytes"))?;
    if salt.len() != SALT_BYTES {
        return Err(ImportError::invalid(FORMAT, "the salt is not 16 bytes"));
    }
    let sealed = decode("encryptedData", &envelope.encrypted_data)?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let (memlimit, opslimit) = (envelope.kdf_params.mem_limit, envelope.kdf_params.ops_limit);
    budget.charge(Kdf::SodiumArgon2id { memlimit, opslimit })?;
    let key = derive(password, &salt, memlimit, opslimit)
        .ok_or_else(|| ImportError::invalid(FORMAT, "kdfParams are not valid Argon2id settings"))?;
    secretstream::open_final(&key, &header, &sealed).ok_or(ImportError::WrongPassword)
}

/// libsodium's `crypto_pwhash(…, ALG_ARGON2ID13)`: memory in KiB is `memlimit / 1024`.
/// The caller has charged the settings to the budget (which bounds both).
fn derive(
    password: &str,
    salt: &[u8],
    memlimit: u64,
    opslimit: u64,
) -> Option<Zeroizing<[u8; 32]>> {
    let memory_kib = u32::try_from(memlimit / 1024).ok()?;
    let passes = u32::try_from(opslimit).ok()?;
    let params = Params::new(memory_kib, passes, 1, Some(32)).ok()?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut key[..])
        .ok()?;
    Some(key)
}

/// Ente's export of `entries`: the otpauth lines (tags and notes in `codeDisplay`), sealed
/// in Ente's envelope under `password` when one is given. Ente's lines hold every OTP kind,
/// algorithm, digit count and period the vault has; icons are not written (named per entry).
pub fn export(entries: &[Entry], password: Option<&str>) -> Result<Export, ExportError> {
    export_with(entries, password, EXPORT_MEMLIMIT, EXPORT_OPSLIMIT)
}

/// [`export`] with other Argon2id settings (tests use small ones); settings libsodium would
/// refuse are [`ExportError::BadKdfSettings`].
pub fn export_with(
    entries: &[Entry],
    password: Option<&str>,
    memlimit: u64,
    opslimit: u64,
) -> Result<Export, ExportError> {
    let mut lines = Zeroizing::new(String::new());
    for entry in entries {
        let mut line = Zeroizing::new(otpauth::to_uri(&entry.account));
        ente_display::append(&mut line, &entry.meta);
        lines.push_str(&line);
        lines.push('\n');
    }
    let notices = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.meta.icon.is_some())
        .map(|(index, e)| ExportNotice {
            index,
            name: e.account.display_name(),
            skipped: false,
            reason: "Ente's export holds the account but not its icon".into(),
        })
        .collect();
    let bytes = match password {
        None => Zeroizing::new(lines.as_bytes().to_vec()),
        Some(password) => seal(lines.as_bytes(), password, memlimit, opslimit)?,
    };
    Ok(Export::new(bytes, entries.len(), notices))
}

fn seal(
    plaintext: &[u8],
    password: &str,
    memlimit: u64,
    opslimit: u64,
) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut salt = [0u8; SALT_BYTES];
    let mut header = [0u8; HEADER_BYTES];
    rand::fill(&mut salt[..]);
    rand::fill(&mut header[..]);
    let key = derive(password, &salt, memlimit, opslimit).ok_or(ExportError::BadKdfSettings)?;
    let envelope = Envelope {
        version: 1,
        kdf_params: SodiumParams {
            mem_limit: memlimit,
            ops_limit: opslimit,
            salt: STANDARD.encode(salt),
        },
        encrypted_data: STANDARD.encode(secretstream::seal_final(&key, &header, plaintext)),
        encryption_nonce: STANDARD.encode(header),
    };
    Ok(Zeroizing::new(
        serde_json::to_vec(&envelope).unwrap_or_default(),
    ))
}
