//! Moving accounts in and out: `export` (backup, otpauth list, Google Authenticator payloads,
//! Aegis) and `import` (every format the app crate reads).

use std::path::Path;

use countersign_app::transfer::{self, ExportFormat, ImportFormat};
use serde_json::json;

use super::{VaultArgs, file_password, open};
use crate::error::CliError;
use crate::view::print_json;

pub(super) fn export(
    args: &VaultArgs,
    format: &str,
    out: &Path,
    encrypt: bool,
) -> Result<(), CliError> {
    let format = ExportFormat::from_name(format).ok_or_else(|| {
        let names: Vec<_> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
        CliError::Usage(format!(
            "unknown export format \"{format}\" (formats: {})",
            names.join(", ")
        ))
    })?;
    let vault = open(args)?;
    let entries = vault.entries()?;
    let password = if format.needs_password() || encrypt {
        Some(file_password("Export password: ")?)
    } else {
        None
    };
    let export = transfer::export(format, entries, password.as_deref().map(|p| p.as_str()))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    write_private(out, &export.bytes)?;
    for notice in &export.notices {
        let what = if notice.skipped {
            "not exported"
        } else {
            "changed"
        };
        eprintln!("countersign: {what}: {} ({})", notice.name, notice.reason);
    }
    println!(
        "exported {} of {} accounts to {}",
        export.exported,
        entries.len(),
        out.display()
    );
    Ok(())
}

pub(super) fn import(
    args: &VaultArgs,
    format: &str,
    file: &Path,
    json_output: bool,
) -> Result<(), CliError> {
    let data = std::fs::read(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let read = |password: Option<&str>| {
        if format.eq_ignore_ascii_case("auto") {
            transfer::import_auto(&data, password)
        } else {
            let known = ImportFormat::from_name(format).ok_or_else(|| {
                let names: Vec<_> = ImportFormat::ALL.iter().map(|f| f.name()).collect();
                transfer::ImportError::Unsupported(format!(
                    "unknown import format \"{format}\" (formats: auto, {})",
                    names.join(", ")
                ))
            })?;
            transfer::import(known, &data, password).map(|report| (known, report))
        }
    };
    let mut result = read(None);
    if let Err(transfer::ImportError::PasswordRequired) = result {
        let password = file_password("Export file password: ")?;
        result = read(Some(&password));
    }
    let (format, report) = result?;
    if !json_output {
        println!("{} file", format.name());
    }
    let mut vault = open(args)?;
    let failures = report.failures.clone();
    let in_file_duplicates = report.duplicates.len();
    let added = vault.add_many(
        report
            .accounts
            .into_iter()
            .map(|i| (i.account, i.meta))
            .collect(),
        false,
    )?;
    if json_output {
        print_json(
            &json!({"format": format.name(), "notices": report.notices, "added": added.added.len(), "already_in_vault": added.duplicates.len(), "duplicates_in_file": in_file_duplicates, "failures": failures, "not_otp": report.not_otp}),
        )?;
        return Ok(());
    }
    println!(
        "imported {} accounts ({} already in the vault, {} duplicates in the file)",
        added.added.len(),
        added.duplicates.len(),
        in_file_duplicates
    );
    for n in &report.notices {
        println!("  entry {} \"{}\": {}", n.index + 1, n.name, n.notice);
    }
    for f in &failures {
        println!(
            "  entry {} \"{}\" not imported: {}",
            f.index + 1,
            f.name,
            f.reason
        );
    }
    Ok(())
}

/// Writes an export readable by the owner only: it may contain every secret.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))
}
