//! andOTP JSON backups, plain or encrypted (`.json.aes`): iterations (4 bytes, big endian),
//! salt (12), IV (12), then AES-256-GCM ciphertext‖tag; key = PBKDF2-HMAC-SHA1.

use serde_json::Value;
use sha1::Sha1;
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::AndOtp;

fn decrypt(
    data: &[u8],
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if data.len() < 4 + 12 + 12 + 16 {
        return Err(ImportError::invalid(
            FORMAT,
            "too short for an encrypted backup",
        ));
    }
    let iterations = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    budget.charge(Kdf::Pbkdf2 { iterations })?;
    let (salt, rest) = data[4..].split_at(12);
    let (iv, ciphertext) = rest.split_at(12);
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.as_bytes(), salt, iterations, &mut key[..]);
    super::aes_gcm_open(&key[..], iv, ciphertext)
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
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
    Ok(report.finish())
}
