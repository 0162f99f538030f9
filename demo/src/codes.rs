//! Steps 1–5: the authenticator alone — enrolment, live codes, HOTP and Steam, a Google
//! Authenticator export, a transactional code bound to a payment.

use countersign_app::migration::{self, MigrationCollector};
use countersign_app::otp::{Algorithm, Window};
use countersign_app::{Account, OtpParameters, Secret, otpauth, transactional, txotp};

use crate::error::{DemoError, fail};
use crate::step;

/// The accounts the later steps keep in the vault.
pub struct Accounts {
    pub totp: Account,
    pub hotp: Account,
}

pub fn run(now: u64) -> Result<Accounts, DemoError> {
    step(1, "Enrolment from an otpauth:// URI");
    let totp = enrolment()?;
    step(2, "Live codes");
    live_codes(&totp, now)?;
    step(3, "Counter-based (HOTP) and Steam accounts");
    let hotp = hotp_and_steam(now)?;
    step(4, "Leaving for another app: a Google Authenticator export");
    export(&totp, &hotp)?;
    step(5, "A transactional code (PSD2 dynamic linking)");
    transactional_code(&totp, now)?;
    Ok(Accounts { totp, hotp })
}

fn enrolment() -> Result<Account, DemoError> {
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
    Ok(account)
}

fn live_codes(account: &Account, now: u64) -> Result<(), DemoError> {
    let current = account.code_at(now);
    println!(
        "Code now: {}  ({} s left)",
        current.code,
        current.seconds_remaining.unwrap_or(0)
    );
    println!("Next code: {}", account.code_at(now + 30).code);
    let server_check = account.verify_totp(current.code.as_str(), now, Window::default(), None);
    let matched = server_check.ok_or_else(|| fail("the live code did not verify"))?;
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
    Ok(())
}

fn hotp_and_steam(now: u64) -> Result<Account, DemoError> {
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
    Ok(hotp)
}

fn export(totp: &Account, hotp: &Account) -> Result<(), DemoError> {
    let export = migration::encode(
        &[totp.clone(), hotp.clone()],
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
    Ok(())
}

fn transactional_code(account: &Account, now: u64) -> Result<(), DemoError> {
    let tx_uri = "txotp://totp?message=Approve+payment&details[Amount]=713.00+EUR&details[Payee]=Hermione+Granger&details[IBAN]=GB33BUKB20201555555555&hidden_details[Payment+ID]=P-2291";
    println!("The bank's page shows a QR code:\n  {tx_uri}");
    let tx = txotp::parse(tx_uri)?.transaction;
    println!("The app displays: {}", tx.message);
    for (key, value) in &tx.details {
        println!("  {key}: {value}");
    }
    let code = transactional::code(account, &tx, now)?;
    println!(
        "Code bound to exactly this payment: {code}   (suite {})",
        transactional::suite_text(account)?
    );
    let ok = transactional::verify(account, &tx, code.as_str(), now, Window::default(), None)?;
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
        account,
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
    Ok(())
}
