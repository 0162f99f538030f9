//! Moving accounts in and out: `export` (backup, otpauth list, Google Authenticator payloads,
//! Aegis) and `import` (every format the app crate reads).

use std::path::Path;

use countersign_app::Account;
use countersign_app::transfer::{
    self, ExportFormat, ImportError, ImportFormat, ImportReport, Imported,
};
use countersign_app::vault::Vault;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{VaultOptions, file_password, open};
use crate::error::CliError;
use crate::progress::Progress;
use crate::view::print_json;

pub(super) fn export(
    args: &VaultOptions,
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
        Some(file_password(args, "Export password: ")?)
    } else {
        None
    };
    let mut progress = Progress::new(args.progress, entries.len());
    progress.show(&format!(
        "exporting {} accounts as {}…",
        entries.len(),
        format.name()
    ));
    let export = transfer::export(format, entries, password.as_deref().map(|p| p.as_str()))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    progress.show(&format!("writing {}…", out.display()));
    write_private(out, &export.bytes)?;
    progress.count("exported", export.exported, entries.len());
    progress.finish();
    if args.json {
        return Ok(print_json(&json!({
            "format": format.name(),
            "file": out,
            "exported": export.exported,
            "accounts": entries.len(),
            "notices": export.notices,
        }))?);
    }
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

/// Reads `data` as `format` (`auto`: recognised), asking for the file's password only when
/// the format turns out to be encrypted.
fn read_export(
    args: &VaultOptions,
    format: &str,
    data: &[u8],
) -> Result<(ImportFormat, ImportReport), CliError> {
    let named = if format.eq_ignore_ascii_case("auto") {
        None
    } else {
        Some(ImportFormat::from_name(format).ok_or_else(|| {
            let names: Vec<_> = ImportFormat::ALL.iter().map(|f| f.name()).collect();
            CliError::Usage(format!(
                "unknown import format \"{format}\" (formats: auto, {})",
                names.join(", ")
            ))
        })?)
    };
    let read = |password: Option<&str>| match named {
        None => transfer::import_auto(data, password),
        Some(known) => transfer::import(known, data, password).map(|report| (known, report)),
    };
    match read(None) {
        Err(ImportError::PasswordRequired) => {
            let password = file_password(args, "Export file password: ")?;
            Ok(read(Some(&password))?)
        }
        other => Ok(other?),
    }
}

/// One imported account as it is shown (never its secret), and whether it was added or
/// the vault already held it.
struct Outcome {
    issuer: Option<String>,
    label: String,
    name: String,
    kind: String,
    added: bool,
}

impl Outcome {
    fn new(account: &Account, added: bool) -> Outcome {
        Outcome {
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            name: account.display_name(),
            kind: kind_name(account),
            added,
        }
    }
}

/// Adds the accounts a few hundred at a time, so the progress line moves on a big import.
fn add_in_batches(
    vault: &mut Vault,
    imported: Vec<Imported>,
    progress: &mut Progress,
) -> Result<Vec<Outcome>, CliError> {
    const BATCH: usize = 200;
    let total = imported.len();
    let mut outcomes = Vec::with_capacity(total);
    let mut rest = imported.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<Imported> = rest.by_ref().take(BATCH).collect();
        let shown: Vec<Outcome> = batch
            .iter()
            .map(|i| Outcome::new(&i.account, true))
            .collect();
        let added = vault.add_many(
            batch.into_iter().map(|i| (i.account, i.meta)).collect(),
            false,
        )?;
        // `duplicates` are positions within this batch (at most BATCH of them).
        outcomes.extend(shown.into_iter().enumerate().map(|(i, outcome)| Outcome {
            added: !added.duplicates.contains(&i),
            ..outcome
        }));
        progress.count("adding accounts", outcomes.len(), total);
    }
    Ok(outcomes)
}

/// "totp", "hotp", "steam", …: the kind's own serialised name, so kinds added to the
/// engine are named here without a new match arm.
fn kind_name(account: &Account) -> String {
    serde_json::to_value(account.params.kind())
        .ok()
        .and_then(|kind| Some(kind.get("type")?.as_str()?.to_owned()))
        .unwrap_or_default()
}

pub(super) fn import(
    args: &VaultOptions,
    format: &str,
    file: &Path,
    json_output: bool,
) -> Result<(), CliError> {
    let data = Zeroizing::new(
        std::fs::read(file)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?,
    );
    // The vault first: a missing vault or a wrong passphrase is found before the user is
    // asked for the file's password.
    let mut vault = open(args)?;
    let (found, mut report) = read_export(args, format, &data)?;
    let accounts = std::mem::take(&mut report.accounts);
    let mut progress = Progress::new(args.progress, accounts.len());
    progress.show(&format!(
        "read {} accounts from a {} file",
        accounts.len(),
        found.name()
    ));
    let outcomes = add_in_batches(&mut vault, accounts, &mut progress)?;
    progress.finish();
    if json_output {
        return Ok(print_json(&import_json(found, &report, &outcomes))?);
    }
    print_import(found, format, &report, &outcomes);
    Ok(())
}

fn import_json(found: ImportFormat, report: &ImportReport, outcomes: &[Outcome]) -> Value {
    let accounts: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "issuer": o.issuer,
                "label": o.label,
                "kind": o.kind,
                "status": if o.added { "added" } else { "already_in_vault" },
            })
        })
        .collect();
    let added = outcomes.iter().filter(|o| o.added).count();
    json!({
        "format": found.name(),
        "accounts": accounts,
        "added": added,
        "already_in_vault": outcomes.len() - added,
        "duplicates_in_file": report.duplicates.len(),
        "notices": report.notices,
        "failures": report.failures,
        "not_otp": report.not_otp,
    })
}

fn print_import(found: ImportFormat, asked: &str, report: &ImportReport, outcomes: &[Outcome]) {
    if asked.eq_ignore_ascii_case("auto") {
        println!("recognised format: {}", found.name());
    } else {
        println!("format: {}", found.name());
    }
    for o in outcomes {
        let status = if o.added {
            "added"
        } else {
            "already in the vault"
        };
        println!("  {status}: {} [{}]", o.name, o.kind);
    }
    for n in &report.notices {
        println!("  entry {} \"{}\": {}", n.index + 1, n.name, n.notice);
    }
    for f in &report.failures {
        println!(
            "  entry {} \"{}\" not imported: {}",
            f.index + 1,
            f.name,
            f.reason
        );
    }
    let added = outcomes.iter().filter(|o| o.added).count();
    println!(
        "imported {added} accounts ({} already in the vault, {} duplicates in the file, {} not imported)",
        outcomes.len() - added,
        report.duplicates.len(),
        report.failures.len()
    );
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
