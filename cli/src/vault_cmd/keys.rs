//! The vault itself and its keys: `init`, `unlock`, `passwd`, `slots`.

use countersign_app::vault::{KdfParams, Vault, VaultError};
use serde_json::json;

use super::{SlotsCommand, VaultOptions, open, secret_input};
use crate::error::CliError;
use crate::view::print_json;

pub(super) fn init(
    args: &VaultOptions,
    memory_kib: Option<u32>,
    iterations: Option<u32>,
) -> Result<(), CliError> {
    let kdf = KdfParams {
        memory_kib: memory_kib.unwrap_or(KdfParams::DEFAULT.memory_kib),
        iterations: iterations.unwrap_or(KdfParams::DEFAULT.iterations),
        parallelism: 1,
    };
    let passphrase = secret_input(
        args.passphrase_file.as_deref(),
        "COUNTERSIGN_PASSPHRASE",
        "New vault passphrase: ",
        true,
    )?;
    args.location.prepare_for_create()?;
    Vault::create(&args.location.path, &passphrase, kdf)?;
    println!("created {}", args.location.path.display());
    Ok(())
}

pub(super) fn unlock(args: &VaultOptions, json_output: bool) -> Result<(), CliError> {
    let vault = open(args)?;
    let (accounts, damaged) = (vault.entries()?.len(), vault.damaged()?.len());
    if json_output {
        print_json(&json!({"accounts": accounts, "damaged": damaged}))?;
    } else {
        println!("unlocked: {accounts} accounts, {damaged} damaged records");
    }
    Ok(())
}

pub(super) fn passwd(
    args: &VaultOptions,
    new_passphrase_file: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let mut vault = open(args)?;
    let new = secret_input(
        new_passphrase_file,
        "COUNTERSIGN_NEW_PASSPHRASE",
        "New passphrase: ",
        true,
    )?;
    if new.is_empty() {
        return Err(VaultError::EmptyPassphrase.into());
    }
    vault.change_passphrase(&new, KdfParams::DEFAULT)?;
    println!("passphrase changed");
    Ok(())
}

pub(super) fn slots(
    args: &VaultOptions,
    command: &SlotsCommand,
    json_output: bool,
) -> Result<(), CliError> {
    let mut vault = open(args)?;
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
    Ok(())
}
