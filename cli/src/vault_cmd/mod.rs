//! `countersign vault …`: the encrypted account vault on the command line. This module holds
//! the arguments, the dispatch and how a vault is opened; one submodule per group of
//! subcommands does the work.

mod accounts;
mod keys;
mod transfer;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use countersign_app::vault::{EntryId, Vault, VaultError};
use zeroize::Zeroizing;

use crate::GlobalArgs;
use crate::error::CliError;
use crate::location::VaultLocation;

#[derive(Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    command: VaultCommand,
}

/// What the global options say about the vault and its files, resolved once.
pub struct VaultOptions {
    pub location: VaultLocation,
    pub passphrase_file: Option<PathBuf>,
    file_passphrase_file: Option<PathBuf>,
    json: bool,
    /// `--progress` was given (else only on a terminal, for many entries).
    progress: bool,
}

impl VaultOptions {
    pub fn new(global: &GlobalArgs) -> Result<VaultOptions, CliError> {
        Ok(VaultOptions {
            location: VaultLocation::resolve(global.vault.as_deref())?,
            passphrase_file: global.passphrase_file.clone(),
            file_passphrase_file: global.file_passphrase_file.clone(),
            json: global.json,
            progress: global.progress,
        })
    }
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
    /// Export to another app's format (see `--format`); --encrypt where the format can be.
    /// Accounts the format cannot hold are named, never dropped silently.
    Export {
        /// countersign (an encrypted backup), aegis, google-authenticator, otpauth, …: the
        /// full list is in the error for an unknown name.
        #[arg(long)]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// Encrypt the export with a password (formats that can be encrypted).
        #[arg(long)]
        encrypt: bool,
    },
    /// Import another app's export; the format is recognised unless --format names it.
    Import {
        /// `auto` recognises the file (and asks for a password only when it is encrypted).
        #[arg(long, default_value = "auto")]
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

fn file_password(options: &VaultOptions, prompt: &str) -> Result<Zeroizing<String>, CliError> {
    secret_input(
        options.file_passphrase_file.as_deref(),
        "COUNTERSIGN_FILE_PASSPHRASE",
        prompt,
        false,
    )
}

fn open(options: &VaultOptions) -> Result<Vault, CliError> {
    open_vault(options)
}

/// Opens and unlocks a vault (passphrase from the file, COUNTERSIGN_PASSPHRASE or a prompt).
/// A vault that does not exist is reported with the command that creates it.
pub fn open_vault(options: &VaultOptions) -> Result<Vault, CliError> {
    let mut vault = match Vault::open(&options.location.path) {
        Err(VaultError::Missing) => return Err(options.location.missing()),
        other => other?,
    };
    let passphrase = secret_input(
        options.passphrase_file.as_deref(),
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

pub fn run(vault_args: VaultArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let args = &VaultOptions::new(global)?;
    let json_output = global.json;
    match &vault_args.command {
        VaultCommand::Init {
            kdf_memory_kib,
            kdf_iterations,
        } => keys::init(args, *kdf_memory_kib, *kdf_iterations),
        VaultCommand::Unlock => keys::unlock(args, json_output),
        VaultCommand::Add { uris, tags } => accounts::add(args, uris, tags.as_deref(), json_output),
        VaultCommand::List {
            search,
            show_secret,
        } => accounts::list(args, search.as_deref(), *show_secret, json_output),
        VaultCommand::Code { account, at } => {
            accounts::code(args, account.as_deref(), *at, json_output)
        }
        VaultCommand::Remove { id } => accounts::remove(args, id),
        VaultCommand::Export {
            format,
            out,
            encrypt,
        } => transfer::export(args, format, out, *encrypt),
        VaultCommand::Import { format, file } => transfer::import(args, format, file, json_output),
        VaultCommand::Passwd {
            new_passphrase_file,
        } => keys::passwd(args, new_passphrase_file.as_deref()),
        VaultCommand::Slots { command } => keys::slots(args, command, json_output),
    }?;
    Ok(ExitCode::SUCCESS)
}
