//! `countersign vault …`: the encrypted account vault on the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::{EntryId, EntryMeta, KdfParams, Vault, VaultError};
use countersign_app::{Clock, SystemClock, migration, otpauth, payload};
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::view::{AccountView, CodeView, print_json};

#[derive(Args)]
pub struct VaultArgs {
    /// The vault file (or COUNTERSIGN_VAULT).
    #[arg(long, env = "COUNTERSIGN_VAULT", default_value = "countersign.vault")]
    vault: PathBuf,
    /// Read the vault passphrase from this file (else COUNTERSIGN_PASSPHRASE, else a prompt).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: VaultCommand,
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Create a new vault.
    Init {
        /// Argon2id memory in KiB (default 131072 = 128 MiB).
        #[arg(long)]
        kdf_memory_kib: Option<u32>,
        /// Argon2id passes (default 5).
        #[arg(long)]
        kdf_iterations: Option<u32>,
    },
    /// Check that the vault opens; report damaged records.
    Unlock,
    /// Add accounts from otpauth:// or otpauth-migration:// URIs.
    Add {
        #[arg(required = true)]
        uris: Vec<String>,
        /// Comma-separated tags for the new accounts.
        #[arg(long)]
        tags: Option<String>,
    },
    /// List accounts (optionally only those matching a search).
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        show_secret: bool,
    },
    /// Codes of all accounts, or of one (HOTP: the next code, counter advanced first).
    Code {
        /// An account id, or text to search for.
        account: Option<String>,
        #[arg(long)]
        at: Option<u64>,
    },
    /// Delete an account.
    Remove { id: String },
    /// Export: an encrypted backup, an otpauth list, Google Authenticator QR payloads, or an
    /// Aegis vault (encrypted with --encrypt).
    Export {
        #[arg(long, value_parser = ["backup", "otpauth", "migration", "aegis"])]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// Encrypt the Aegis export with a password.
        #[arg(long)]
        encrypt: bool,
    },
    /// Import another app's export (aegis, google-authenticator, 2fas, bitwarden-json,
    /// bitwarden-csv, ente, andotp, freeotp-plus, otpauth, countersign).
    Import {
        #[arg(long)]
        format: String,
        file: PathBuf,
    },
    /// Change the passphrase (new one from --new-passphrase-file, COUNTERSIGN_NEW_PASSPHRASE
    /// or a prompt).
    Passwd {
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Key slots.
    Slots {
        #[command(subcommand)]
        command: SlotsCommand,
    },
}

#[derive(Subcommand)]
enum SlotsCommand {
    List,
    /// Add a recovery code; it is printed once.
    AddRecovery,
    Remove {
        id: String,
    },
}

/// A secret from a file, an environment variable, or the terminal.
fn secret_input(
    file: Option<&Path>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> Result<Zeroizing<String>, CliError> {
    if let Some(file) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?,
        );
        return Ok(Zeroizing::new(
            text.trim_end_matches(['\n', '\r']).to_owned(),
        ));
    }
    if let Ok(value) = std::env::var(env) {
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "no passphrase: set {env} or pass a passphrase file"
        )));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password(prompt).map_err(|e| CliError::Usage(e.to_string()))?,
    );
    if confirm {
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat: ").map_err(|e| CliError::Usage(e.to_string()))?,
        );
        if *first != *second {
            return Err(CliError::Usage("the passphrases differ".into()));
        }
    }
    Ok(first)
}

fn file_password(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    secret_input(None, "COUNTERSIGN_FILE_PASSPHRASE", prompt, false)
}

fn open(args: &VaultArgs) -> Result<Vault, CliError> {
    open_vault(&args.vault, args.passphrase_file.as_deref())
}

/// Opens and unlocks a vault (passphrase from the file, COUNTERSIGN_PASSPHRASE or a prompt).
pub fn open_vault(path: &Path, passphrase_file: Option<&Path>) -> Result<Vault, CliError> {
    let mut vault = Vault::open(path)?;
    let passphrase = secret_input(
        passphrase_file,
        "COUNTERSIGN_PASSPHRASE",
        "Vault passphrase: ",
        false,
    )?;
    vault.unlock_with_passphrase(&passphrase)?;
    for damage in vault.damaged()? {
        eprintln!("countersign: warning: {damage}");
    }
    Ok(vault)
}

fn find(vault: &Vault, key: &str) -> Result<EntryId, CliError> {
    if let Some(id) = EntryId::parse(key) {
        vault.entry(id)?;
        return Ok(id);
    }
    let matches = vault.search(key)?;
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => Err(CliError::Usage(format!("no account matches \"{key}\""))),
        many => Err(CliError::Usage(format!(
            "\"{key}\" matches {} accounts; use an id",
            many.len()
        ))),
    }
}

pub fn run(args: VaultArgs, json_output: bool) -> Result<ExitCode, CliError> {
    match &args.command {
        VaultCommand::Init {
            kdf_memory_kib,
            kdf_iterations,
        } => {
            let kdf = KdfParams {
                memory_kib: kdf_memory_kib.unwrap_or(KdfParams::DEFAULT.memory_kib),
                iterations: kdf_iterations.unwrap_or(KdfParams::DEFAULT.iterations),
                parallelism: 1,
            };
            let passphrase = secret_input(
                args.passphrase_file.as_deref(),
                "COUNTERSIGN_PASSPHRASE",
                "New vault passphrase: ",
                true,
            )?;
            Vault::create(&args.vault, &passphrase, kdf)?;
            println!("created {}", args.vault.display());
        }
        VaultCommand::Unlock => {
            let vault = open(&args)?;
            let (accounts, damaged) = (vault.entries()?.len(), vault.damaged()?.len());
            if json_output {
                print_json(&json!({"accounts": accounts, "damaged": damaged}))?;
            } else {
                println!("unlocked: {accounts} accounts, {damaged} damaged records");
            }
        }
        VaultCommand::Add { uris, tags } => {
            let mut vault = open(&args)?;
            let tags: Vec<String> = tags
                .iter()
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            let mut accounts = Vec::new();
            for uri in uris {
                if payload::kind_of(uri) == payload::PayloadKind::MigrationBatch {
                    let batch = migration::decode(uri)?;
                    for failure in &batch.failures {
                        eprintln!(
                            "countersign: skipped \"{}\": {}",
                            failure.name, failure.error
                        );
                    }
                    accounts.extend(batch.accounts);
                } else {
                    accounts.push(otpauth::parse(uri)?.account);
                }
            }
            let meta = EntryMeta {
                tags,
                ..EntryMeta::default()
            };
            let report = vault.add_many(
                accounts.into_iter().map(|a| (a, meta.clone())).collect(),
                false,
            )?;
            if json_output {
                print_json(
                    &json!({"added": report.added.iter().map(ToString::to_string).collect::<Vec<_>>(), "duplicates": report.duplicates}),
                )?;
            } else {
                for id in &report.added {
                    println!("added {id}");
                }
                for index in &report.duplicates {
                    println!("already in the vault: argument {}", index + 1);
                }
            }
        }
        VaultCommand::List {
            search,
            show_secret,
        } => {
            let vault = open(&args)?;
            let entries: Vec<_> = match search {
                Some(query) => vault.search(query)?,
                None => vault.entries()?.iter().collect(),
            };
            if json_output {
                let list: Vec<_> = entries
                    .iter()
                    .map(|e| json!({"id": e.id.to_string(), "account": AccountView::new(&e.account, *show_secret), "tags": e.meta.tags, "notes": e.meta.notes}))
                    .collect();
                print_json(&list)?;
            } else {
                for e in entries {
                    println!("{}  {}", e.id, e.account.display_name());
                }
            }
        }
        VaultCommand::Code { account, at } => {
            let mut vault = open(&args)?;
            let time = at.unwrap_or_else(|| SystemClock.now_unix());
            let ids: Vec<EntryId> = match account {
                Some(key) => vec![find(&vault, key)?],
                None => vault
                    .entries()?
                    .iter()
                    .filter(|e| e.account.params.counter().is_none())
                    .map(|e| e.id)
                    .collect(),
            };
            let mut out = Vec::new();
            for id in ids {
                let entry = vault.entry(id)?.clone();
                let code = if entry.account.params.counter().is_some() {
                    vault.next_hotp_code(id)?
                } else {
                    entry.account.code_at(time)
                };
                out.push((id, entry.account.display_name(), CodeView::from(code)));
            }
            if json_output {
                print_json(&out.iter().map(|(id, name, code)| json!({"id": id.to_string(), "name": name, "code": code})).collect::<Vec<_>>())?;
            } else {
                for (_, name, code) in out {
                    println!("{}  {}", code.code, name);
                }
            }
        }
        VaultCommand::Remove { id } => {
            let mut vault = open(&args)?;
            let id = EntryId::parse(id)
                .ok_or_else(|| CliError::Usage(format!("\"{id}\" is not an account id")))?;
            vault.delete(id)?;
            println!("removed {id}");
        }
        VaultCommand::Export {
            format,
            out,
            encrypt,
        } => {
            let vault = open(&args)?;
            let entries = vault.entries()?;
            let bytes: Zeroizing<Vec<u8>> = match format.as_str() {
                "backup" => {
                    let password = file_password("Backup passphrase: ")?;
                    Zeroizing::new(
                        transfer::export_backup(entries, &password, KdfParams::DEFAULT)
                            .ok_or_else(|| {
                                CliError::Usage("the backup passphrase must not be empty".into())
                            })?,
                    )
                }
                "otpauth" => {
                    Zeroizing::new(transfer::export_otpauth_list(entries).as_bytes().to_vec())
                }
                "aegis" => {
                    let password = if *encrypt {
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
                _ => {
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
            };
            write_private(out, &bytes)?;
            println!("exported {} accounts to {}", entries.len(), out.display());
        }
        VaultCommand::Import { format, file } => {
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
            let mut vault = open(&args)?;
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
            } else {
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
            }
        }
        VaultCommand::Passwd {
            new_passphrase_file,
        } => {
            let mut vault = open(&args)?;
            let new = secret_input(
                new_passphrase_file.as_deref(),
                "COUNTERSIGN_NEW_PASSPHRASE",
                "New passphrase: ",
                true,
            )?;
            if new.is_empty() {
                return Err(VaultError::EmptyPassphrase.into());
            }
            vault.change_passphrase(&new, KdfParams::DEFAULT)?;
            println!("passphrase changed");
        }
        VaultCommand::Slots { command } => {
            let mut vault = open(&args)?;
            match command {
                SlotsCommand::List => {
                    let slots = vault.slots()?;
                    if json_output {
                        print_json(&slots.iter().map(|s| json!({"id": s.id, "kind": s.params.kind(), "created_at": s.created_at})).collect::<Vec<_>>())?;
                    } else {
                        for s in slots {
                            println!("{}  {}", s.id, s.params.kind());
                        }
                    }
                }
                SlotsCommand::AddRecovery => {
                    let (id, code) = vault.add_recovery_slot()?;
                    println!(
                        "recovery slot {id}\nWrite this code down; it is shown only once:\n  {}",
                        code.display().as_str()
                    );
                }
                SlotsCommand::Remove { id } => {
                    vault.remove_slot(id)?;
                    println!("removed slot {id}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
