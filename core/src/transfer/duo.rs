//! Duo Mobile's account list (Android: `/data/data/com.duosecurity.duomobile/files/duokit/
//! accounts.json`). A JSON array of accounts; each has `name` and, when it makes codes, an
//! `otpGenerator` with `otpSecret` (base32) and, for counter-based passcodes (Duo's own
//! accounts), `counter`: HOTP when a counter is present, TOTP (SHA-1, 6 digits, 30 s)
//! otherwise. Accounts without `otpGenerator` (push-only) are counted as not OTP accounts.
//! Learned from Aegis's `DuoImporter`.

use serde_json::Value;

use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::Duo;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    let file: Value = super::json::parse(FORMAT, data)?;
    let accounts = file
        .as_array()
        .ok_or_else(|| ImportError::invalid(FORMAT, "not a list of accounts"))?;
    let mut report = ReportBuilder::new();
    for (index, entry) in accounts.iter().enumerate() {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let Some(generator) = entry.get("otpGenerator").filter(|g| !g.is_null()) else {
            report.not_otp();
            continue;
        };
        let result = account(generator, &name).map(|account| (account, EntryMeta::default()));
        report.record(index, name, result);
    }
    Ok(report.finish())
}

fn account(generator: &Value, name: &str) -> Result<Account, String> {
    let secret = generator
        .get("otpSecret")
        .and_then(Value::as_str)
        .ok_or("no otpSecret")?;
    let counter = match generator.get("counter") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().ok_or("the counter is not a number")?),
    };
    Fields {
        issuer: "",
        name,
        secret_base32: secret,
        kind: if counter.is_some() { "hotp" } else { "totp" },
        algorithm: None,
        digits: None,
        period: None,
        counter,
    }
    .account()
}
