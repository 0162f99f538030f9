//! Proton Pass's unencrypted export: a zip holding `Proton Pass/data.json`, or that JSON
//! alone. Layout learned from Proton's own reader (`proton-pass-common`,
//! `proton-authenticator/src/parser/pass/mod.rs`), Aegis's `ProtonPassImporter` and
//! Bitwarden's `protonpass-json-importer`: `{"version", "userId", "encrypted": false,
//! "vaults": {ID: {"name", "items": [{"itemId", "state", "data": {"type", "metadata":
//! {"name", "note"}, "content": {"totpUri", "itemUsername", "itemEmail", …}, "extraFields":
//! [{"fieldName", "type": "totp", "data": {"totpUri"}}]}}]}}}`.
//!
//! A login's `totpUri` and every `totp` extra field become accounts; items with neither
//! count as not OTP. The PGP-encrypted export is refused with the way out (export
//! unencrypted): reading OpenPGP is out of scope. The zip is read by [`super::archive`]
//! within [`archive::PROTON_PASS_EXPORT`]'s bounds (entry count, the declared size and the
//! bytes actually inflated; an oversized `data.json` is `TooLarge`).

use serde_json::Value;
use zeroize::Zeroizing;

use super::archive::{self, Archive, Entry};
use super::kdf::KdfBudget;
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::ProtonPass;

/// The path of the export's JSON inside the zip.
pub(crate) const DATA_PATH: &str = "Proton Pass/data.json";
const PGP_ARMOR: &str = "-----BEGIN PGP MESSAGE-----";

/// Whether `data` is a zip naming the export's JSON (or its PGP-encrypted form): the names
/// stand in the central directory as plain bytes.
pub(crate) fn looks_like_zip_export(data: &[u8]) -> bool {
    let named = |name: &[u8]| data.windows(name.len()).any(|w| w == name);
    archive::is_zip(data) && (named(DATA_PATH.as_bytes()) || named(b"Proton Pass/data.pgp"))
}

fn encrypted_refused() -> ImportError {
    ImportError::Unsupported(
        "this Proton Pass export is PGP-encrypted, which Countersign does not read; \
         export again from Proton Pass without encryption (zip or JSON)"
            .into(),
    )
}

pub fn import(data: &[u8], budget: &mut KdfBudget) -> Result<ImportReport, ImportError> {
    let inflated;
    let json: &[u8] = if archive::is_zip(data) {
        inflated = data_json_from_zip(data, budget)?;
        &inflated
    } else {
        data
    };
    if std::str::from_utf8(json).is_ok_and(|t| t.trim_start().starts_with(PGP_ARMOR)) {
        return Err(encrypted_refused());
    }
    let file: Value = super::json::parse(FORMAT, json)?;
    if file.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(encrypted_refused());
    }
    let vaults = file
        .get("vaults")
        .and_then(Value::as_object)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no vaults"))?;
    let mut report = ReportBuilder::new();
    let mut index = 0;
    for vault in vaults.values() {
        let vault_name = vault.get("name").and_then(Value::as_str).unwrap_or("");
        let items = vault.get("items").and_then(Value::as_array);
        for item in items.into_iter().flatten() {
            read_item(item, vault_name, index, &mut report);
            index += 1;
        }
    }
    Ok(report.finish())
}

/// The inflated `Proton Pass/data.json`, every size checked before and while inflating.
fn data_json_from_zip(
    data: &[u8],
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let mut zip = Archive::open(FORMAT, data, archive::PROTON_PASS_EXPORT)?;
    if zip.names().any(|name| name.ends_with(".pgp")) {
        return Err(encrypted_refused());
    }
    zip.read(Entry::Path(DATA_PATH), None, budget)
}

/// One item: its login TOTP and TOTP extra fields as accounts, or a not-OTP count.
fn read_item(item: &Value, vault_name: &str, index: usize, report: &mut ReportBuilder) {
    let data = item.get("data");
    let metadata = data.and_then(|d| d.get("metadata"));
    let name = text(metadata, "name");
    let meta = EntryMeta {
        tags: Some(super::bounded_tag(vault_name))
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect(),
        notes: text(metadata, "note").to_owned(),
        icon: None,
    };
    let content = data.and_then(|d| d.get("content"));
    let username = Some(text(content, "itemUsername"))
        .filter(|u| !u.is_empty())
        .unwrap_or(text(content, "itemEmail"));
    let mut uris: Vec<(&str, String)> = Vec::new();
    if text(data, "type") == "login" && !text(content, "totpUri").trim().is_empty() {
        uris.push((text(content, "totpUri"), username.to_owned()));
    }
    let fields = data
        .and_then(|d| d.get("extraFields"))
        .and_then(Value::as_array);
    for field in fields.into_iter().flatten() {
        let uri = text(field.get("data"), "totpUri");
        if text(Some(field), "type") == "totp" && !uri.trim().is_empty() {
            let field_name = text(Some(field), "fieldName");
            uris.push((
                uri,
                Some(field_name)
                    .filter(|f| !f.is_empty())
                    .unwrap_or(username)
                    .to_owned(),
            ));
        }
    }
    if uris.is_empty() {
        report.not_otp();
        return;
    }
    for (uri, label) in uris {
        let result =
            super::totp_field_account(uri, name, &label).map(|account| (account, meta.clone()));
        report.record(index, name.to_owned(), result);
    }
}

/// The string at `key` of an object, or "".
fn text<'a>(value: Option<&'a Value>, key: &str) -> &'a str {
    value
        .and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}
