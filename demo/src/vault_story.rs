//! Step 6: the encrypted vault — created, two accounts and a recovery code added, locked,
//! a wrong passphrase refused, unlocked with the recovery code, an encrypted Aegis export read
//! back.

use std::path::Path;

use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::{EntryMeta, KdfParams, Vault};

use crate::codes::Accounts;
use crate::error::{DemoError, fail};

/// Step 6: creates the vault at `path`, keeps `accounts` in it, locks and unlocks it, and
/// returns it unlocked as the phone's storage for the bank's steps.
pub fn run(path: &Path, accounts: &Accounts, now: u64) -> Result<Vault, DemoError> {
    let (totp, hotp) = (&accounts.totp, &accounts.hotp);
    let started = std::time::Instant::now();
    let mut vault = Vault::create(path, "demo passphrase", KdfParams::DEFAULT)?;
    println!(
        "Created a vault (Argon2id 128 MiB × 5 passes: {} ms).",
        started.elapsed().as_millis()
    );
    vault.add(
        totp.clone(),
        EntryMeta {
            tags: vec!["bank".into()],
            ..EntryMeta::default()
        },
    )?;
    let hotp_id = vault.add(hotp.clone(), EntryMeta::default())?;
    let (_, recovery) = vault.add_recovery_slot()?;
    println!(
        "Added 2 accounts and a recovery code ({}).",
        recovery.display().as_str()
    );
    vault.lock();
    println!("Locked: the key and every secret are wiped from memory.");
    match vault.unlock_with_passphrase("wrong guess") {
        Err(e) => println!("Unlock with a wrong passphrase: {e}."),
        Ok(()) => return Err(fail("a wrong passphrase unlocked the vault")),
    }
    vault.unlock_with_recovery_code(recovery.display().as_str())?;
    println!(
        "Unlocked with the recovery code: {} accounts.",
        vault.entries()?.len()
    );
    let codes = vault.codes_at(now)?;
    println!(
        "Codes now: {}",
        codes
            .iter()
            .filter_map(|(_, c)| c.map(|c| c.code.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let next = vault.next_hotp_code(hotp_id)?;
    println!(
        "Next HOTP code {} (counter saved before it was shown).",
        next.code
    );
    let aegis = transfer::export_aegis(vault.entries()?, Some("export password"));
    let back = transfer::import(
        ImportFormat::Aegis,
        aegis.as_bytes(),
        Some("export password"),
    )?;
    println!(
        "Exported to an encrypted Aegis vault and read it back: {} accounts.",
        back.accounts.len()
    );
    Ok(vault)
}
