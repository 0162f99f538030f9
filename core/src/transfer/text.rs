//! Line-based formats: otpauth URI lists (also Ente Auth's plain export) and Google
//! Authenticator migration URIs.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::migration::{self, MigrationCollector};
use crate::otpauth;
use crate::vault::{Entry, EntryMeta};

pub(crate) fn lines(
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
    let mut report = ReportBuilder::new();
    for (index, line) in lines(data, format)? {
        let result = otpauth::parse(line)
            .map(|p| (p.account, EntryMeta::default()))
            .map_err(|e| e.to_string());
        report.record(index, format!("line {}", index + 1), result);
    }
    Ok(report.finish())
}

pub fn import_migration(data: &[u8]) -> Result<ImportReport, ImportError> {
    const FORMAT: ImportFormat = ImportFormat::GoogleAuthenticator;
    let mut report = ReportBuilder::new();
    // Parts of several exports may be mixed: each goes to the collector of its export,
    // found by (batch id, size) in one lookup, so a file of many exports stays linear.
    let mut collectors: Vec<MigrationCollector> = Vec::new();
    let mut by_export: HashMap<(i32, i32), usize> = HashMap::new();
    for (index, line) in lines(data, FORMAT)? {
        let line_name = || format!("line {}", index + 1);
        let batch = match migration::decode(line) {
            Ok(batch) => batch,
            Err(e) => {
                report.fail(index, line_name(), e.to_string());
                continue;
            }
        };
        let export = (batch.batch_id, batch.batch_size.max(1));
        let slot = *by_export.entry(export).or_insert_with(|| {
            collectors.push(MigrationCollector::new());
            collectors.len() - 1
        });
        if let Some(Err(e)) = collectors.get_mut(slot).map(|c| c.add(batch)) {
            report.fail(index, line_name(), e.to_string());
        }
    }
    let mut position = 0;
    for collector in collectors {
        let missing = collector.missing_ranges();
        if !missing.is_empty() {
            report.fail(
                position,
                "export",
                format!("QR codes {} of this export are missing", describe(&missing)),
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
    Ok(report.finish())
}

/// `[(0, 2), (5, 5)]` as "0-2, 5": the message grows with the gaps between scanned parts,
/// never with the part count a payload claims.
fn describe(ranges: &[(i32, i32)]) -> String {
    let spans: Vec<String> = ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect();
    spans.join(", ")
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
