//! One function per subcommand.

use std::process::ExitCode;

use countersign_app::migration::{self, MigrationCollector};
use countersign_app::otp::Window;
use countersign_app::{Clock, SystemClock, otpauth, transactional, txotp};
use serde::Serialize;
use serde_json::json;

use crate::account_args::AccountArgs;
use crate::error::CliError;
use crate::view::{AccountView, CodeView, ParsedView, ScannedView, TransactionView, print_json};

fn now_or(at: Option<u64>) -> u64 {
    at.unwrap_or_else(|| SystemClock.now_unix())
}

pub fn code(
    args: &AccountArgs,
    at: Option<u64>,
    counter: Option<u64>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let account = args.account(counter)?;
    let code = CodeView::from(account.code_at(now_or(at)));
    if json {
        print_json(&code)?;
    } else {
        println!("{}", code.code);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uri_parse(uri: &str, show_secret: bool) -> Result<ExitCode, CliError> {
    let parsed = otpauth::parse(uri)?;
    print_json(&ParsedView {
        account: AccountView::new(&parsed.account, show_secret),
        warnings: parsed.warnings,
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct MigrationView {
    batch_id: Option<i32>,
    parts_scanned: usize,
    missing_parts: Vec<i32>,
    accounts: Vec<AccountView>,
    failures: Vec<migration::EntryFailure>,
}

pub fn migration_decode(uris: &[String], show_secret: bool) -> Result<ExitCode, CliError> {
    let mut collector = MigrationCollector::new();
    let mut batch_id = None;
    for uri in uris {
        let batch = migration::decode(uri)?;
        batch_id = Some(batch.batch_id);
        collector.add(batch)?;
    }
    let missing_parts = collector.missing();
    let (accounts, failures) = collector.into_parts();
    print_json(&MigrationView {
        batch_id,
        parts_scanned: uris.len(),
        missing_parts,
        accounts: accounts
            .iter()
            .map(|a| AccountView::new(a, show_secret))
            .collect(),
        failures,
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn migration_encode(uris: &[String], max_len: usize, json: bool) -> Result<ExitCode, CliError> {
    let accounts = uris
        .iter()
        .map(|u| otpauth::parse(u).map(|p| p.account))
        .collect::<Result<Vec<_>, _>>()?;
    let export = migration::encode(
        &accounts,
        max_len,
        countersign_app::migration::random_batch_id(),
    );
    if json {
        print_json(&json!({"uris": export.uris, "skipped": export.skipped}))?;
    } else {
        for uri in &export.uris {
            println!("{uri}");
        }
        for skipped in &export.skipped {
            eprintln!(
                "countersign: skipped account {}: {}",
                skipped.index + 1,
                skipped.error
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn txotp_show(tx: &str, json: bool) -> Result<ExitCode, CliError> {
    let parsed = txotp::parse(tx)?;
    let view = TransactionView::new(&parsed.transaction, parsed.len, parsed.is_long());
    if json {
        print_json(&view)?;
    } else {
        println!("{}", view.message);
        for [key, value] in &view.details {
            println!("  {key}: {value}");
        }
        if view.long {
            println!("(note: {} characters; over 300 scans slowly)", view.length);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn txotp_code(
    args: &AccountArgs,
    tx: &str,
    at: Option<u64>,
    json: bool,
) -> Result<ExitCode, CliError> {
    let account = args.account(None)?;
    let transaction = txotp::parse(tx)?.transaction;
    let time = now_or(at);
    let code = transactional::code(&account, &transaction, time)?;
    if json {
        print_json(&json!({
            "code": code.to_string(),
            "suite": transactional::suite_text(&account)?,
            "challenge": transactional::challenge(&transaction),
            "step": time / u64::from(account.params.period().unwrap_or(30)),
        }))?;
    } else {
        println!("{code}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn txotp_verify(
    args: &AccountArgs,
    tx: &str,
    typed: &str,
    at: Option<u64>,
    window: u32,
    json: bool,
) -> Result<ExitCode, CliError> {
    let account = args.account(None)?;
    let transaction = txotp::parse(tx)?.transaction;
    let found = transactional::verify(
        &account,
        &transaction,
        typed,
        now_or(at),
        Window::symmetric(window),
        None,
    )?;
    if json {
        print_json(
            &json!({"valid": found.is_some(), "step": found.map(|m| m.step), "offset": found.map(|m| m.offset)}),
        )?;
    } else {
        println!("{}", if found.is_some() { "valid" } else { "invalid" });
    }
    Ok(if found.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `countersign scan`: every code in every file, one compact JSON object per line.
pub fn scan(files: &[std::path::PathBuf]) -> Result<ExitCode, CliError> {
    let mut found_any = false;
    for file in files {
        let bytes = std::fs::read(file)
            .map_err(|error| CliError::Usage(format!("cannot read {}: {error}", file.display())))?;
        let codes = countersign_app::scan::scan_image(&bytes)
            .map_err(|error| CliError::Usage(format!("{}: {error}", file.display())))?;
        for code in &codes {
            found_any = true;
            println!(
                "{}",
                serde_json::to_string(&ScannedView::new(&file.display().to_string(), code))?
            );
        }
    }
    Ok(if found_any {
        ExitCode::SUCCESS
    } else {
        eprintln!("countersign: no QR code found");
        ExitCode::from(1)
    })
}
