//! Moving accounts in and out: `export` (backup, otpauth list, Google Authenticator payloads,
//! Aegis) and `import` (every format the app crate reads).

use std::path::Path;

use countersign_app::migration;
use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::{Entry, KdfParams};
use serde_json::json;
use zeroize::Zeroizing;

use super::{VaultArgs, file_password, open};
use crate::error::CliError;
use crate::view::print_json;

pub(super) fn export(
    args: &VaultArgs,
    format: &str,
    out: &Path,
    encrypt: bool,
) -> Result<(), CliError> {
    let vault = open(args)?;
    let entries = vault.entries()?;
    let bytes = export_bytes(format, entries, encrypt)?;
    write_private(out, &bytes)?;
    println!("exported {} accounts to {}", entries.len(), out.display());
    Ok(())
}

/// The export file's content (it may hold every secret, hence zeroized).
fn export_bytes(
    format: &str,
    entries: &[Entry],
    encrypt: bool,
) -> Result<Zeroizing<Vec<u8>>, CliError> {
    Ok(match format {
        "backup" => {
            let password = file_password("Backup passphrase: ")?;
            Zeroizing::new(
                transfer::export_backup(entries, &password, KdfParams::DEFAULT).ok_or_else(
                    || CliError::Usage("the backup passphrase must not be empty".into()),
                )?,
            )
        }
        "otpauth" => Zeroizing::new(transfer::export_otpauth_list(entries).as_bytes().to_vec()),
        "aegis" => {
            let password = if encrypt {
                Some(file_password("Aegis export password: ")?)
            } else {
                None
            };
            Zeroizing::new(
                transfer::export_aegis(entries, password.as_deref().map(|p| p.as_str()))
                    .as_bytes()
                    .to_vec(),
            )
        }
        _ => migration_export(entries),
    })
}

/// Google Authenticator export URIs, one per line; accounts it cannot hold are reported.
fn migration_export(entries: &[Entry]) -> Zeroizing<Vec<u8>> {
    let accounts: Vec<_> = entries.iter().map(|e| e.account.clone()).collect();
    let export = migration::encode(
        &accounts,
        migration::DEFAULT_MAX_URI_LEN,
        migration::random_batch_id(),
    );
    for skipped in &export.skipped {
        eprintln!(
            "countersign: not exported: {} ({})",
            entries[skipped.index].account.display_name(),
            skipped.error
        );
    }
    Zeroizing::new(export.uris.join("\n").into_bytes())
}

pub(super) fn import(
    args: &VaultArgs,
    format: &str,
    file: &Path,
    json_output: bool,
) -> Result<(), CliError> {
    let format = ImportFormat::from_name(format)
        .ok_or_else(|| CliError::Usage(format!("unknown import format \"{format}\"")))?;
    let data = std::fs::read(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let mut report = transfer::import(format, &data, None);
    if let Err(transfer::ImportError::PasswordRequired) = report {
        let password = file_password("Export file password: ")?;
        report = transfer::import(format, &data, Some(&password));
    }
    let report = report?;
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
            &json!({"added": added.added.len(), "already_in_vault": added.duplicates.len(), "duplicates_in_file": in_file_duplicates, "failures": failures, "not_otp": report.not_otp}),
        )?;
        return Ok(());
    }
    println!(
        "imported {} accounts ({} already in the vault, {} duplicates in the file)",
        added.added.len(),
        added.duplicates.len(),
        in_file_duplicates
    );
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
