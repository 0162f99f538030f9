//! andOTP JSON backups, plain or encrypted (`.json.aes`): iterations (4 bytes, big endian),
//! salt (12), IV (12), then AES-256-GCM ciphertext‖tag; key = PBKDF2-HMAC-SHA1.

use serde_json::Value;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::{Fields, ImportError, ImportFormat, ImportReport};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::AndOtp;
/// Refuse absurd iteration counts from a file (andOTP uses 140,000 to 160,000).
const MAX_ITERATIONS: u32 = 10_000_000;

fn decrypt(data: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if data.len() < 4 + 12 + 12 + 16 {
        return Err(ImportError::invalid(
            FORMAT,
            "too short for an encrypted backup",
        ));
    }
    let iterations = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(ImportError::invalid(FORMAT, "iteration count out of range"));
    }
    let (salt, rest) = data[4..].split_at(12);
    let (iv, ciphertext) = rest.split_at(12);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, iterations, &mut key[..]);
    super::aes_gcm_open(&key[..], iv, ciphertext)
}

pub fn import(data: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
    let plain;
    let json: &[u8] = if data
        .first()
        .is_some_and(|b| *b == b'[' || b.is_ascii_whitespace())
    {
        data
    } else {
        plain = decrypt(data, password.ok_or(ImportError::PasswordRequired)?)?;
        &plain
    };
    let entries: Vec<Value> =
        serde_json::from_slice(json).map_err(|e| ImportError::invalid(FORMAT, e))?;
    let mut report = ImportReport::default();
    for (index, entry) in entries.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str);
        let number = |key: &str| entry.get(key).and_then(Value::as_u64);
        let name = text("label").unwrap_or("").to_owned();
        let result = (|| {
            let account = Fields {
                issuer: text("issuer").unwrap_or(""),
                name: &name,
                secret_base32: text("secret").ok_or("no secret")?,
                kind: text("type").ok_or("no type")?,
                algorithm: text("algorithm"),
                digits: number("digits").map(|d| d as u32),
                period: number("period").map(|p| p as u32),
                counter: number("counter"),
            }
            .account()?;
            let tags = entry
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let icon = text("thumbnail")
                .filter(|t| !t.is_empty() && *t != "Default")
                .map(str::to_owned);
            Ok((
                account,
                EntryMeta {
                    tags,
                    notes: String::new(),
                    icon,
                },
            ))
        })();
        report.record(index, name, result.map_err(|e: String| e));
    }
    Ok(report)
}
