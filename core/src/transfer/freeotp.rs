//! FreeOTP+ JSON exports: `tokens` with the secret as an array of signed bytes.

use serde_json::Value;

use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::secret::Secret;
use crate::vault::EntryMeta;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    const FORMAT: ImportFormat = ImportFormat::FreeOtpPlus;
    let file: Value = super::json::parse(FORMAT, data)?;
    let tokens = file
        .get("tokens")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no tokens"))?;
    let mut report = ReportBuilder::new();
    for (index, token) in tokens.iter().enumerate() {
        let text = |key: &str| token.get(key).and_then(Value::as_str);
        let number = |key: &str| token.get(key).and_then(Value::as_u64);
        let name = text("label").unwrap_or("").to_owned();
        let result = (|| {
            let bytes = token
                .get("secret")
                .and_then(Value::as_array)
                .ok_or("no secret")?
                .iter()
                .map(|b| {
                    b.as_i64()
                        .filter(|v| (-128..=255).contains(v))
                        .map(|v| v as u8)
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or("the secret is not a list of bytes")?;
            let secret = Secret::from_bytes(bytes).map_err(|e| e.to_string())?;
            let issuer = text("issuerExt")
                .filter(|i| !i.is_empty())
                .or(text("issuerInt"))
                .unwrap_or("");
            let account = Fields {
                issuer,
                name: &name,
                secret_base32: "",
                kind: text("type").ok_or("no type")?,
                algorithm: text("algo"),
                digits: number("digits").map(|d| d as u32),
                period: number("period").map(|p| p as u32),
                counter: number("counter"),
            }
            .account_with(secret)?;
            let icon = text("image").filter(|i| !i.is_empty()).map(str::to_owned);
            Ok((
                account,
                EntryMeta {
                    tags: Vec::new(),
                    notes: String::new(),
                    icon,
                },
            ))
        })();
        report.record(index, name, result.map_err(|e: String| e));
    }
    Ok(report.finish())
}
