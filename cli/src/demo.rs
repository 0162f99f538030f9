//! `countersign demo`: the authenticator's story in one run, nothing to configure.

use std::process::ExitCode;

use countersign_app::migration::{self, MigrationCollector};
use countersign_app::otp::{Algorithm, Window};
use countersign_app::{
    Account, Clock, OtpParameters, Secret, SystemClock, otpauth, transactional, txotp,
};

use crate::error::CliError;
use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::{EntryMeta, KdfParams, Vault};

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

pub fn run() -> Result<ExitCode, CliError> {
    let now = SystemClock.now_unix();
    println!("Countersign demo: an authenticator's core, end to end (time now: {now}).");

    step(1, "Enrolment from an otpauth:// URI");
    // A fresh 160-bit secret, as a bank's server would issue it, 7 digits like Authy codes.
    let issued = Account::new(
        Some("Gringotts Bank".into()),
        "hermione@hogwarts.example",
        Secret::generate(20),
        OtpParameters::totp(Algorithm::Sha1, 7, 30)?,
    );
    let uri = otpauth::to_uri(&issued);
    println!("The bank shows a QR code holding:\n  {uri}");
    let parsed = otpauth::parse(&uri)?;
    let account = parsed.account;
    println!(
        "The app enrols \"{}\": {} digits, {}, every {} s, {}-bit secret{}.",
        account.display_name(),
        account.params.digits(),
        account.params.algorithm(),
        account.params.period().unwrap_or(30),
        account.secret.bits(),
        if parsed.warnings.is_empty() {
            ""
        } else {
            " (with warnings)"
        }
    );
    let weak =
        otpauth::parse("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")?;
    println!(
        "An 80-bit secret from another service is accepted with a warning: {:?}",
        weak.warnings
    );

    step(2, "Live codes");
    let current = account.code_at(now);
    println!(
        "Code now: {}  ({} s left)",
        current.code,
        current.seconds_remaining.unwrap_or(0)
    );
    println!("Next code: {}", account.code_at(now + 30).code);
    let server_check = account.verify_totp(current.code.as_str(), now, Window::default(), None);
    let matched =
        server_check.ok_or_else(|| CliError::Usage("the live code did not verify".into()))?;
    println!(
        "The server verifies it: step {} (offset {}).",
        matched.step, matched.offset
    );
    let replay = account.verify_totp(
        current.code.as_str(),
        now,
        Window::default(),
        Some(matched.step),
    );
    println!(
        "The same code again is refused as a replay: {}",
        if replay.is_none() {
            "refused"
        } else {
            "ACCEPTED (bug)"
        }
    );

    step(3, "Counter-based (HOTP) and Steam accounts");
    let hotp = Account::new(
        Some("VPN".into()),
        "hermione",
        Secret::generate(20),
        OtpParameters::hotp(Algorithm::Sha256, 8, 0)?,
    );
    let codes: Vec<String> = (0..3).map(|c| hotp.code_for_step(c).to_string()).collect();
    println!("HOTP codes for counters 0, 1, 2: {}", codes.join(", "));
    let resynced = hotp.resync_hotp(
        &hotp.code_for_step(41).to_string(),
        &hotp.code_for_step(42).to_string(),
        100,
    );
    println!(
        "Two consecutive codes re-anchor a drifted counter at: {:?}",
        resynced.map(|m| m.next_counter)
    );
    let steam = Account::new(
        Some("Steam".into()),
        "hermione",
        Secret::generate(20),
        OtpParameters::steam(),
    );
    println!("Steam Guard code: {}", steam.code_at(now).code);

    step(4, "Leaving for another app: a Google Authenticator export");
    let export = migration::encode(
        &[account.clone(), hotp.clone()],
        migration::DEFAULT_MAX_URI_LEN,
        migration::random_batch_id(),
    );
    println!(
        "{} account(s) fit in {} QR code(s); not exportable: {} (Google has no 7-digit codes).",
        2 - export.skipped.len(),
        export.uris.len(),
        export.skipped.len()
    );
    let mut collector = MigrationCollector::new();
    for uri in &export.uris {
        collector.add(migration::decode(uri)?)?;
    }
    let (imported, _) = collector.into_parts();
    println!(
        "Scanning it back yields: {}",
        imported
            .iter()
            .map(Account::display_name)
            .collect::<Vec<_>>()
            .join(", ")
    );

    step(5, "A transactional code (PSD2 dynamic linking)");
    let tx_uri = "txotp://totp?message=Approve+payment&details[Amount]=713.00+EUR&details[Payee]=Hermione+Granger&details[IBAN]=GB33BUKB20201555555555&hidden_details[Payment+ID]=P-2291";
    println!("The bank's page shows a QR code:\n  {tx_uri}");
    let tx = txotp::parse(tx_uri)?.transaction;
    println!("The app displays: {}", tx.message);
    for (key, value) in &tx.details {
        println!("  {key}: {value}");
    }
    let code = transactional::code(&account, &tx, now)?;
    println!(
        "Code bound to exactly this payment: {code}   (suite {})",
        transactional::suite_text(&account)?
    );
    let ok = transactional::verify(&account, &tx, code.as_str(), now, Window::default(), None)?;
    println!(
        "The bank verifies it against the same payment: {}",
        if ok.is_some() {
            "valid"
        } else {
            "INVALID (bug)"
        }
    );
    let tampered = txotp::parse(&tx_uri.replace("713.00", "7130.00"))?.transaction;
    let bad = transactional::verify(
        &account,
        &tampered,
        code.as_str(),
        now,
        Window::default(),
        None,
    )?;
    println!(
        "Against a payment of 7130.00 EUR instead: {}",
        if bad.is_none() {
            "invalid — the amount is bound into the code"
        } else {
            "VALID (bug)"
        }
    );

    step(6, "The encrypted vault");
    let dir = std::env::temp_dir().join(format!("countersign-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("demo.vault");
    let outcome = vault_story(&path, &account, &hotp, now)
        .and_then(|mut vault| crate::demo_bank::run(7, &dir, &mut vault));
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;

    println!("\nDone. See `countersign --help` for each step as a command.");
    Ok(ExitCode::SUCCESS)
}

fn vault_story(
    path: &std::path::Path,
    totp: &Account,
    hotp: &Account,
    now: u64,
) -> Result<Vault, CliError> {
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
        Ok(()) => {
            return Err(CliError::Usage(
                "a wrong passphrase unlocked the vault".into(),
            ));
        }
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
