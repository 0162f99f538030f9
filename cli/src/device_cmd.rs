//! `countersign device …` and `countersign approvals …`: this computer as a registered device
//! answering banks' approval requests. Each registration gets its own software key, sealed in
//! the vault with it; any number of registrations, with one server or several, coexist.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use countersign_app::device::{
    Challenge, ClientError, Decision, DeviceClient, DeviceCredentials, RegistrationLink,
    SoftwareSigner,
};
use countersign_app::vault::{DeviceKey, DeviceRecord, EntryMeta, Vault, new_registration_id};
use serde_json::json;
use zeroize::Zeroizing;

use crate::GlobalArgs;
use crate::error::CliError;
use crate::vault_cmd::{VaultOptions, open_vault};
use crate::view::print_json;

#[derive(Args)]
pub struct DeviceArgs {
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
    /// This vault's registrations (several per server are possible).
    List,
}

#[derive(Args)]
pub struct ApprovalArgs {
    /// Only this server's registrations (default: every registration).
    #[arg(long)]
    server: Option<String>,
    /// Only this registration (its id from `device list`).
    #[arg(long)]
    registration: Option<String>,
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

pub fn run_device(args: DeviceArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let json_output = global.json;
    let mut vault = open_vault(&VaultOptions::new(global)?)?;
    match args.command {
        DeviceCommand::Register { uri, name, os } => {
            let link = RegistrationLink::parse(&Zeroizing::new(uri))?;
            // A key for this registration only: banks cannot link this device by its key.
            let signer = Arc::new(SoftwareSigner::generate());
            let software_key = signer.secret();
            let (client, registration) =
                runtime()?.block_on(DeviceClient::register(&link, signer, &name, &os, None))?;
            let credentials = client.credentials();
            let registration_id = new_registration_id();
            vault.save_device(
                &credentials.to_record(&registration_id, DeviceKey::Software(software_key)),
            )?;
            let account_id = match registration.account {
                Some(account) => Some(vault.add(account, EntryMeta::default())?.to_string()),
                None => None,
            };
            if json_output {
                print_json(&json!({
                    "registration_id": registration_id,
                    "server_url": credentials.server_url,
                    "device_id": credentials.device_id,
                    "authy_id": credentials.authy_id,
                    "account_id": account_id,
                    "clock_offset_seconds": client.clock_offset(),
                }))?;
            } else {
                println!(
                    "registered with {} as device {} (user {}), registration {registration_id}",
                    credentials.server_url, credentials.device_id, credentials.authy_id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::List => {
            let devices: Vec<_> = vault
                .devices()?
                .into_iter()
                .map(|d| {
                    json!({
                        "registration_id": d.registration_id,
                        "server_url": d.server_url,
                        "device_id": d.device_id,
                        "authy_id": d.authy_id,
                    })
                })
                .collect();
            print_json(&devices)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Which registrations a command is about.
struct Selection<'a> {
    server: Option<&'a str>,
    registration: Option<&'a str>,
}

impl Selection<'_> {
    fn includes(&self, record: &DeviceRecord) -> bool {
        self.server
            .is_none_or(|s| s.trim_end_matches('/') == record.server_url)
            && self
                .registration
                .is_none_or(|r| r == record.registration_id)
    }
}

/// A client per selected registration, each signing with that registration's own key.
fn clients(vault: &Vault, selection: &Selection) -> Result<Vec<DeviceClient>, CliError> {
    let mut clients = Vec::new();
    for record in vault.devices()? {
        if !selection.includes(&record) {
            continue;
        }
        let DeviceKey::Software(key) = &record.key else {
            return Err(CliError::Usage(format!(
                "the device key of registration {} is in a phone's key store, not in this vault",
                record.registration_id
            )));
        };
        let signer = SoftwareSigner::from_secret(key).ok_or_else(|| {
            CliError::Usage(format!(
                "the device key of registration {} is damaged",
                record.registration_id
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

/// Every selected registration's verified challenges (each listed once when two registrations
/// of one user see it) and the servers that failed. A server that fails or a challenge that is
/// refused is reported on stderr and hides nothing of the others.
struct AllPending<'a> {
    challenges: Vec<(&'a DeviceClient, Challenge)>,
    failed: Vec<ClientError>,
    servers: usize,
}

impl AllPending<'_> {
    fn nothing_answered(&self) -> bool {
        self.failed.len() == self.servers
    }
}

async fn all_pending(clients: &[DeviceClient]) -> AllPending<'_> {
    let mut all = AllPending {
        challenges: Vec::new(),
        failed: Vec::new(),
        servers: clients.len(),
    };
    // One at a time: a command line waits for every server anyway.
    for client in clients {
        let server = &client.credentials().server_url;
        let found = match client.pending().await {
            Ok(found) => found,
            Err(error) => {
                eprintln!("countersign: warning: {server} could not be asked: {error}");
                all.failed.push(error);
                continue;
            }
        };
        for refused in found.refused {
            eprintln!("countersign: warning: refused a challenge from {server}: {refused}");
        }
        for challenge in found.challenges {
            if !all.challenges.iter().any(|(_, c)| c.uuid == challenge.uuid) {
                all.challenges.push((client, challenge));
            }
        }
    }
    all
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

pub fn run_approvals(args: ApprovalArgs, global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let json_output = global.json;
    let vault = open_vault(&VaultOptions::new(global)?)?;
    let selection = Selection {
        server: args.server.as_deref(),
        registration: args.registration.as_deref(),
    };
    let clients = clients(&vault, &selection)?;
    let runtime = runtime()?;
    let pending = runtime.block_on(all_pending(&clients));
    // No server answered: the first one's error is the answer.
    if pending.nothing_answered()
        && let Some(error) = pending.failed.into_iter().next()
    {
        return Err(error.into());
    }
    let pending = pending.challenges;
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
