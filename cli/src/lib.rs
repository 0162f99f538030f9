//! `countersign`: the authenticator core on the command line.
//!
//! Exit codes: 0 success, 1 a code did not verify or no QR code was found, 2 bad input (one
//! line on stderr).
//!
//! A library with one entry point, [`run`], so that a test package in another crate (the
//! end-to-end tests in `tests/`) can build the very same command as its own binary; the
//! `countersign` binary is `run` and nothing else.

mod account_args;
mod commands;
mod device_cmd;
mod error;
mod location;
mod progress;
mod vault_cmd;
mod view;

use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::account_args::AccountArgs;
use crate::error::CliError;

#[derive(Parser)]
#[command(
    name = "countersign",
    version,
    about = "Countersign authenticator: codes, enrolment URIs and transactional codes"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand accepts, before or after its name (`global`): people type
/// `countersign vault list --json --vault work.vault` as often as the other order.
#[derive(Args)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// The vault file (or COUNTERSIGN_VAULT). Default: countersign/countersign.vault in the
    /// user's data directory ($XDG_DATA_HOME or ~/.local/share, ~/Library/Application
    /// Support, %APPDATA%).
    #[arg(long, global = true, env = "COUNTERSIGN_VAULT")]
    vault: Option<PathBuf>,
    /// Read the vault passphrase from this file (else COUNTERSIGN_PASSPHRASE, else a prompt).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    /// Read an export or import file's password from this file (else
    /// COUNTERSIGN_FILE_PASSPHRASE, else a prompt).
    #[arg(long, global = true)]
    file_passphrase_file: Option<PathBuf>,
    /// Show a progress line on stderr for imports and exports (default: only when stderr is
    /// a terminal and there are many entries).
    #[arg(long, global = true)]
    progress: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Print the code of an account at an instant (now by default).
    Code {
        #[command(flatten)]
        account: AccountArgs,
        /// Unix time in seconds instead of now.
        #[arg(long)]
        at: Option<u64>,
        /// HOTP counter (makes --secret counter-based; overrides an hotp URI's counter).
        #[arg(long)]
        counter: Option<u64>,
    },
    /// otpauth:// and otpauth-migration:// URIs.
    Uri {
        #[command(subcommand)]
        command: UriCommand,
    },
    /// Transactional codes bound to a txotp:// transaction.
    Txotp {
        #[command(subcommand)]
        command: TxotpCommand,
    },
    /// The encrypted account vault.
    Vault(vault_cmd::VaultArgs),
    /// This computer as a registered device of a bank's Countersign server.
    Device(device_cmd::DeviceArgs),
    /// Pending approval requests on the registered servers: list, show, approve, deny.
    Approvals(device_cmd::ApprovalArgs),
    /// Read QR codes from image files (PNG, JPEG, WebP, GIF): one JSON line per code found;
    /// exit 1 when none is found.
    Scan {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum UriCommand {
    /// Parse an otpauth:// URI and print the account as JSON.
    Parse {
        uri: String,
        /// Include the secret (base32) in the output.
        #[arg(long)]
        show_secret: bool,
    },
    /// Google Authenticator exports.
    Migration {
        #[command(subcommand)]
        command: MigrationCommand,
    },
}

#[derive(Subcommand)]
enum MigrationCommand {
    /// Decode the otpauth-migration:// URIs of one export (all its QR codes, any order).
    Decode {
        #[arg(required = true)]
        uris: Vec<String>,
        /// Include each account's secret and otpauth URI.
        #[arg(long)]
        show_secret: bool,
    },
    /// Turn otpauth:// URIs into Google Authenticator export URIs, one per QR code.
    Encode {
        #[arg(required = true)]
        uris: Vec<String>,
        /// Largest URI per QR code, in characters.
        #[arg(long, default_value_t = countersign_app::migration::DEFAULT_MAX_URI_LEN)]
        max_len: usize,
    },
}

#[derive(Subcommand)]
enum TxotpCommand {
    /// Show a transaction as the app displays it, with its canonical string and challenge.
    Show {
        #[arg(long)]
        tx: String,
    },
    /// Print the transactional code of an account for a transaction.
    Code {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long)]
        tx: String,
        #[arg(long)]
        at: Option<u64>,
    },
    /// Check a transactional code; exit 0 when valid, 1 when not.
    Verify {
        #[command(flatten)]
        account: AccountArgs,
        #[arg(long)]
        tx: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        at: Option<u64>,
        /// Steps accepted either side of the current one.
        #[arg(long, default_value_t = 1)]
        window: u32,
    },
}

fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    let json = cli.global.json;
    match cli.command {
        Command::Code {
            account,
            at,
            counter,
        } => commands::code(&account, at, counter, json),
        Command::Uri {
            command: UriCommand::Parse { uri, show_secret },
        } => commands::uri_parse(&uri, show_secret),
        Command::Uri {
            command:
                UriCommand::Migration {
                    command: MigrationCommand::Decode { uris, show_secret },
                },
        } => commands::migration_decode(&uris, show_secret),
        Command::Uri {
            command:
                UriCommand::Migration {
                    command: MigrationCommand::Encode { uris, max_len },
                },
        } => commands::migration_encode(&uris, max_len, json),
        Command::Txotp {
            command: TxotpCommand::Show { tx },
        } => commands::txotp_show(&tx, json),
        Command::Txotp {
            command: TxotpCommand::Code { account, tx, at },
        } => commands::txotp_code(&account, &tx, at, json),
        Command::Txotp {
            command:
                TxotpCommand::Verify {
                    account,
                    tx,
                    code,
                    at,
                    window,
                },
        } => commands::txotp_verify(&account, &tx, &code, at, window, json),
        Command::Vault(args) => vault_cmd::run(args, &cli.global),
        Command::Scan { files } => commands::scan(&files),
        Command::Device(args) => device_cmd::run_device(args, &cli.global),
        Command::Approvals(args) => device_cmd::run_approvals(args, &cli.global),
    }
}

/// The whole command: parses the process's arguments, runs the subcommand, prints any error
/// on one line of stderr and returns the exit status.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("countersign: {e}");
            ExitCode::from(2)
        }
    }
}
