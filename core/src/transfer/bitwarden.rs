//! Bitwarden's unencrypted exports, JSON and CSV. The `totp` field holds an otpauth URI, a
//! `steam://SECRET`, or a bare base32 secret (then the item's name and username label it).

use serde_json::Value;

use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::vault::EntryMeta;

pub fn import_json(data: &[u8]) -> Result<ImportReport, ImportError> {
    const FORMAT: ImportFormat = ImportFormat::BitwardenJson;
    let file: Value = super::json::parse(FORMAT, data)?;
    if file.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(ImportError::Unsupported(
            "encrypted Bitwarden exports are not supported; export as unencrypted JSON or CSV"
                .into(),
        ));
    }
    let items = file
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no items"))?;
    let folders = super::named_ids(file.get("folders"), "id");
    let mut report = ReportBuilder::new();
    for (index, item) in items.iter().enumerate() {
        let text = |v: Option<&Value>, key: &str| {
            v.and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let login = item.get("login");
        let totp = text(login, "totp");
        if totp.is_empty() {
            report.not_otp();
            continue;
        }
        let name = text(Some(item), "name");
        let result =
            super::totp_field_account(&totp, &name, &text(login, "username")).map(|account| {
                let mut tags: Vec<String> = item
                    .get("folderId")
                    .and_then(Value::as_str)
                    .and_then(|id| folders.get(id))
                    .map(|name| vec![name.clone()])
                    .unwrap_or_default();
                if item.get("favorite").and_then(Value::as_bool) == Some(true) {
                    tags.push("favorite".into());
                }
                (
                    account,
                    EntryMeta {
                        tags,
                        notes: text(Some(item), "notes"),
                        icon: None,
                    },
                )
            });
        report.record(index, name, result);
    }
    Ok(report.finish())
}

pub fn import_csv(data: &[u8]) -> Result<ImportReport, ImportError> {
    const FORMAT: ImportFormat = ImportFormat::BitwardenCsv;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::invalid(FORMAT, e))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let totp_column =
        column("login_totp").ok_or_else(|| ImportError::invalid(FORMAT, "no login_totp column"))?;
    let (name_col, user_col, notes_col, folder_col, favorite_col) = (
        column("name"),
        column("login_username"),
        column("notes"),
        column("folder"),
        column("favorite"),
    );
    let mut report = ReportBuilder::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                report.fail(index, "", format!("unreadable CSV row: {e}"));
                continue;
            }
        };
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let totp = field(Some(totp_column));
        if totp.trim().is_empty() {
            report.not_otp();
            continue;
        }
        let name = field(name_col);
        let result = super::totp_field_account(&totp, &name, &field(user_col)).map(|account| {
            let mut tags: Vec<String> = Some(field(folder_col))
                .filter(|f| !f.is_empty())
                .into_iter()
                .collect();
            if field(favorite_col) == "1" {
                tags.push("favorite".into());
            }
            (
                account,
                EntryMeta {
                    tags,
                    notes: field(notes_col),
                    icon: None,
                },
            )
        });
        report.record(index, name, result);
    }
    Ok(report.finish())
}
