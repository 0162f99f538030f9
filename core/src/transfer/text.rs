//! Line-based formats: otpauth URI lists (also Ente Auth's plain export) and Google
//! Authenticator migration URIs.

use zeroize::Zeroizing;

use super::{ImportError, ImportFormat, ImportReport};
use crate::migration::{self, MigrationCollector};
use crate::otpauth;
use crate::vault::{Entry, EntryMeta};

fn lines(
    data: &[u8],
    format: ImportFormat,
) -> Result<impl Iterator<Item = (usize, &str)>, ImportError> {
    let text =
        std::str::from_utf8(data).map_err(|_| ImportError::invalid(format, "not UTF-8 text"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#')))
}

pub fn import_otpauth(data: &[u8], format: ImportFormat) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    for (index, line) in lines(data, format)? {
        let result = otpauth::parse(line)
            .map(|p| (p.account, EntryMeta::default()))
            .map_err(|e| e.to_string());
        report.record(index, format!("line {}", index + 1), result);
    }
    Ok(report)
}

pub fn import_migration(data: &[u8]) -> Result<ImportReport, ImportError> {
    const FORMAT: ImportFormat = ImportFormat::GoogleAuthenticator;
    let mut report = ImportReport::default();
    let mut collectors: Vec<MigrationCollector> = Vec::new();
    for (index, line) in lines(data, FORMAT)? {
        let batch = match migration::decode(line) {
            Ok(batch) => batch,
            Err(e) => {
                report.fail(index, format!("line {}", index + 1), e.to_string());
                continue;
            }
        };
        // Parts of several exports may be mixed: each goes to the collector of its batch.
        let mut pending = Some(batch);
        for collector in collectors.iter_mut() {
            if let Some(batch) = pending.take() {
                match collector.add(batch.clone()) {
                    Ok(_) => {}
                    Err(_) => pending = Some(batch),
                }
            }
        }
        if let Some(batch) = pending {
            let mut collector = MigrationCollector::new();
            if let Err(e) = collector.add(batch) {
                report.fail(index, format!("line {}", index + 1), e.to_string());
                continue;
            }
            collectors.push(collector);
        }
    }
    let mut position = 0;
    for collector in collectors {
        let missing = collector.missing();
        if !missing.is_empty() {
            report.fail(
                position,
                "export",
                format!("QR codes {missing:?} of this export are missing"),
            );
        }
        let (accounts, failures) = collector.into_parts();
        for failure in failures {
            report.fail(
                position + failure.index,
                failure.name,
                failure.error.to_string(),
            );
        }
        for account in accounts {
            report.push(position, account, EntryMeta::default());
            position += 1;
        }
    }
    Ok(report)
}

/// One otpauth URI per line. Contains secrets.
pub fn export(entries: &[Entry]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for entry in entries {
        out.push_str(&otpauth::to_uri(&entry.account));
        out.push('\n');
    }
    out
}
