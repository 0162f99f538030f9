//! 2FAS `.2fas` backups (schema version 4): `services`, or `servicesEncrypted` =
//! `base64(ciphertext‖tag):base64(salt):base64(iv)` with AES-256-GCM under a
//! PBKDF2-HMAC-SHA256 key (10,000 iterations).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::TwoFas;
const PBKDF2_ITERATIONS: u32 = 10_000;

fn decrypt(
    encrypted: &str,
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let parts: Vec<&str> = encrypted.split(':').collect();
    let [ciphertext, salt, iv] = parts.as_slice() else {
        return Err(ImportError::invalid(
            FORMAT,
            "servicesEncrypted is not ciphertext:salt:iv",
        ));
    };
    let decode = |text: &str| {
        STANDARD
            .decode(text)
            .map_err(|_| ImportError::invalid(FORMAT, "not base64"))
    };
    let (ciphertext, salt, iv) = (decode(ciphertext)?, decode(salt)?, decode(iv)?);
    if iv.len() != 12 {
        return Err(ImportError::invalid(FORMAT, "the IV is not 12 bytes"));
    }
    // The count is 2FAS's constant, not the file's; charged all the same, so every
    // derivation an import runs goes through one budget.
    budget.charge(Kdf::Pbkdf2 {
        iterations: PBKDF2_ITERATIONS,
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, PBKDF2_ITERATIONS, &mut key[..]);
    super::aes_gcm_open(&key[..], &iv, &ciphertext)
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let file: Value = super::json::parse(FORMAT, data)?;
    let decrypted;
    let services: Vec<Value> = match file.get("servicesEncrypted").and_then(Value::as_str) {
        Some(encrypted) => {
            let password = password.ok_or(ImportError::PasswordRequired)?;
            decrypted = decrypt(encrypted, password, budget)?;
            super::json::parse(FORMAT, &decrypted)?
        }
        None => file
            .get("services")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| ImportError::invalid(FORMAT, "no services"))?,
    };
    let groups = super::named_ids(file.get("groups"), "id");
    let mut report = ReportBuilder::new();
    for (index, service) in services.iter().enumerate() {
        let name = service
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let result = (|| {
            let otp = service.get("otp").ok_or("no otp parameters")?;
            let text = |key: &str| otp.get(key).and_then(Value::as_str);
            let number = |key: &str| otp.get(key).and_then(Value::as_u64);
            // 2FAS keeps the service name apart from the otpauth issuer; the name is what
            // users see, so it is the issuer unless empty.
            let issuer = if name.is_empty() {
                text("issuer").unwrap_or("")
            } else {
                name.as_str()
            };
            let label = text("account")
                .filter(|a| !a.is_empty())
                .or(text("label"))
                .unwrap_or("");
            let account = Fields {
                issuer,
                name: label,
                secret_base32: service
                    .get("secret")
                    .and_then(Value::as_str)
                    .ok_or("no secret")?,
                kind: text("tokenType").unwrap_or("TOTP"),
                algorithm: text("algorithm"),
                digits: number("digits").map(|d| d as u32),
                period: number("period").map(|p| p as u32),
                counter: number("counter"),
            }
            .account()?;
            let tags = service
                .get("groupId")
                .and_then(Value::as_str)
                .and_then(|id| groups.get(id))
                .map(|name| vec![name.clone()])
                .unwrap_or_default();
            Ok((
                account,
                EntryMeta {
                    tags,
                    notes: String::new(),
                    icon: None,
                },
            ))
        })();
        report.record(index, name, result.map_err(|e: String| e));
    }
    Ok(report.finish())
}
