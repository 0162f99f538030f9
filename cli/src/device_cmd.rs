//! `countersign device …` and `countersign approvals …`: this computer as a registered device
//! (software key sealed in the vault) answering a bank's approval requests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use countersign_core::device::{
    Challenge, ClientError, Decision, DeviceClient, DeviceCredentials, RegistrationLink,
    SoftwareSigner,
};
use countersign_core::vault::{EntryMeta, Vault};
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::vault_cmd::open_vault;
use crate::view::print_json;

#[derive(Args)]
pub struct VaultLocation {
    /// The vault file (or COUNTERSIGN_VAULT).
    #[arg(long, env = "COUNTERSIGN_VAULT", default_value = "countersign.vault")]
    vault: PathBuf,
    /// Read the vault passphrase from this file (else COUNTERSIGN_PASSPHRASE, else a prompt).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct DeviceArgs {
    #[command(flatten)]
    location: VaultLocation,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Register with a bank's server from its countersign://register link (or QR text).
    Register {
        uri: String,
        #[arg(long, default_value = "countersign CLI")]
        name: String,
        #[arg(long, default_value = std::env::consts::OS)]
        os: String,
    },
    /// The servers this vault is registered with.
    List,
}

#[derive(Args)]
pub struct ApprovalArgs {
    #[command(flatten)]
    location: VaultLocation,
    /// Only this server (default: every registered server).
    #[arg(long)]
    server: Option<String>,
    #[command(subcommand)]
    command: ApprovalCommand,
}

#[derive(Subcommand)]
enum ApprovalCommand {
    /// Pending approval requests, each verified against its server's key.
    List,
    /// One pending request, as it would be shown.
    Show {
        uuid: String,
    },
    /// Approve (with number matching: --number, the number shown on the bank's page).
    Approve {
        uuid: String,
        #[arg(long)]
        number: Option<u8>,
    },
    Deny {
        uuid: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the network runtime: {e}")))
}

pub fn run_device(args: DeviceArgs, json_output: bool) -> Result<ExitCode, CliError> {
    let mut vault = open_vault(
        &args.location.vault,
        args.location.passphrase_file.as_deref(),
    )?;
    match args.command {
        DeviceCommand::Register { uri, name, os } => {
            let link = RegistrationLink::parse(&uri)?;
            let signer = Arc::new(SoftwareSigner::generate());
            let software_key = signer.secret();
            let (client, registration) =
                runtime()?.block_on(DeviceClient::register(&link, signer, &name, &os, None))?;
            let credentials = client.credentials();
            vault.save_device(&credentials.to_record(Some(software_key)))?;
            let account_id = match registration.account {
                Some(account) => Some(vault.add(account, EntryMeta::default())?.to_string()),
                None => None,
            };
            if json_output {
                print_json(&json!({
                    "server_url": credentials.server_url,
                    "device_id": credentials.device_id,
                    "authy_id": credentials.authy_id,
                    "account_id": account_id,
                    "clock_offset_seconds": client.clock_offset(),
                }))?;
            } else {
                println!(
                    "registered with {} as device {} (user {})",
                    credentials.server_url, credentials.device_id, credentials.authy_id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::List => {
            let devices: Vec<_> = vault
                .devices()?
                .into_iter()
                .map(|d| json!({"server_url": d.server_url, "device_id": d.device_id, "authy_id": d.authy_id}))
                .collect();
            print_json(&devices)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A client per registered server (optionally only `server`).
fn clients(vault: &Vault, server: Option<&str>) -> Result<Vec<DeviceClient>, CliError> {
    let mut clients = Vec::new();
    for record in vault.devices()? {
        if server.is_some_and(|s| s.trim_end_matches('/') != record.server_url) {
            continue;
        }
        let key: &Zeroizing<Vec<u8>> = record.software_key.as_ref().ok_or_else(|| {
            CliError::Usage(format!(
                "the device key for {} is not a software key",
                record.server_url
            ))
        })?;
        let signer = SoftwareSigner::from_secret(key).ok_or_else(|| {
            CliError::Usage(format!(
                "the device key for {} is damaged",
                record.server_url
            ))
        })?;
        clients.push(DeviceClient::new(
            DeviceCredentials::from_record(&record),
            Arc::new(signer),
        )?);
    }
    if clients.is_empty() {
        return Err(CliError::Usage(
            "no registered device: run `countersign device register URI` first".into(),
        ));
    }
    Ok(clients)
}

fn challenge_json(server: &str, c: &Challenge) -> serde_json::Value {
    json!({
        "server_url": server,
        "uuid": c.uuid,
        "message": c.message,
        "details": c.details.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "expires_at": c.expires_at,
        "number_choices": c.number_choices,
    })
}

pub fn run_approvals(args: ApprovalArgs, json_output: bool) -> Result<ExitCode, CliError> {
    let vault = open_vault(
        &args.location.vault,
        args.location.passphrase_file.as_deref(),
    )?;
    let clients = clients(&vault, args.server.as_deref())?;
    let runtime = runtime()?;
    // Every server's verified challenges; refused ones are reported, never shown.
    let mut pending: Vec<(&DeviceClient, Challenge)> = Vec::new();
    for client in &clients {
        let found = runtime.block_on(client.pending())?;
        for refused in found.refused {
            eprintln!(
                "countersign: warning: refused a challenge from {}: {refused}",
                client.credentials().server_url
            );
        }
        pending.extend(found.challenges.into_iter().map(|c| (client, c)));
    }
    let find = |uuid: &str| {
        pending
            .iter()
            .find(|(_, c)| c.uuid == uuid)
            .ok_or_else(|| CliError::Usage(format!("no pending approval request {uuid}")))
    };
    match args.command {
        ApprovalCommand::List => {
            if json_output {
                let list: Vec<_> = pending
                    .iter()
                    .map(|(client, c)| challenge_json(&client.credentials().server_url, c))
                    .collect();
                print_json(&list)?;
            } else {
                for (_, c) in &pending {
                    println!("{}  {}", c.uuid, c.message);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalCommand::Show { uuid } => {
            let (client, c) = find(&uuid)?;
            if json_output {
                print_json(&challenge_json(&client.credentials().server_url, c))?;
            } else {
                println!("{}", c.message);
                for (key, value) in &c.details {
                    println!("  {key}: {value}");
                }
                if !c.number_choices.is_empty() {
                    println!("  pick the number shown: {:?}", c.number_choices);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalCommand::Approve { uuid, number } => {
            let (client, c) = find(&uuid)?;
            answer(&runtime, client, c, Decision::Approve, number, json_output)
        }
        ApprovalCommand::Deny { uuid } => {
            let (client, c) = find(&uuid)?;
            answer(&runtime, client, c, Decision::Deny, None, json_output)
        }
    }
}

fn answer(
    runtime: &tokio::runtime::Runtime,
    client: &DeviceClient,
    challenge: &Challenge,
    decision: Decision,
    number: Option<u8>,
    json_output: bool,
) -> Result<ExitCode, CliError> {
    let status = runtime
        .block_on(client.answer(challenge, decision, number))
        .map_err(|e| match e {
            ClientError::NumberRequired(choices) => CliError::Usage(format!(
                "this request uses number matching: pass --number with the number shown, one of {choices:?}"
            )),
            other => other.into(),
        })?;
    if json_output {
        print_json(&json!({"uuid": challenge.uuid, "status": status}))?;
    } else {
        println!("{status}");
    }
    Ok(ExitCode::SUCCESS)
}
