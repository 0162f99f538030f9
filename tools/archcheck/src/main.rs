//! `countersign-archcheck`: checks the architecture rules of docs/architecture.md on the
//! workspace around the current directory. Prints each violation; exit 1 if any, 2 if the
//! check could not run. `scripts/test` runs it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
    match countersign_archcheck::workspace::check(&dir) {
        Ok(violations) if violations.is_empty() => {
            println!("architecture: every rule holds");
            ExitCode::SUCCESS
        }
        Ok(violations) => {
            for violation in &violations {
                println!("{violation}");
            }
            println!(
                "architecture: {} violation(s) (docs/architecture.md)",
                violations.len()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("architecture check could not run: {e}");
            ExitCode::from(2)
        }
    }
}
