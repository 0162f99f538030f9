//! `countersign-demo`: the authenticator's story in one run, nothing to configure. First the
//! app crate alone (enrolment, codes, an export, a transactional code, the vault), then a
//! bank's Countersign server embedded in this process, with this computer as the customer's
//! phone. It is its own crate because it is the one program that needs both the app crate and
//! the server; the `countersign` command never links the server.

mod bank;
mod codes;
mod error;
mod phone;
mod vault_story;

use std::process::ExitCode;

use countersign_app::{Clock, SystemClock};

use crate::error::{DemoError, fail};

/// Prints a step's heading.
fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

fn run() -> Result<(), DemoError> {
    let now = SystemClock.now_unix();
    println!("Countersign demo: an authenticator's core, end to end (time now: {now}).");
    let accounts = codes::run(now)?;

    step(6, "The encrypted vault");
    let dir = std::env::temp_dir().join(format!("countersign-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("demo.vault");
    let outcome = vault_story::run(&path, &accounts, now)
        .and_then(|mut vault| bank::run(7, &dir, &mut vault));
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;

    println!("\nDone. See `countersign --help` for each step as a command.");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("countersign-demo: {e}");
            ExitCode::from(2)
        }
    }
}
