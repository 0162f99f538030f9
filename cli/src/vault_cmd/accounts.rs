//! The vault's accounts: `add`, `list`, `code`, `remove`.

use countersign_app::vault::{EntryId, EntryMeta};
use countersign_app::{Account, Clock, SystemClock, migration, otpauth, payload};
use serde_json::json;

use super::{VaultOptions, find, open};
use crate::error::CliError;
use crate::view::{AccountView, CodeView, print_json};

pub(super) fn add(
    args: &VaultOptions,
    uris: &[String],
    tags: Option<&str>,
    json_output: bool,
) -> Result<(), CliError> {
    let mut vault = open(args)?;
    let tags: Vec<String> = tags
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let mut accounts = Vec::new();
    for uri in uris {
        accounts.extend(accounts_of(uri)?);
    }
    let meta = EntryMeta {
        tags,
        ..EntryMeta::default()
    };
    let report = vault.add_many(
        accounts.into_iter().map(|a| (a, meta.clone())).collect(),
        false,
    )?;
    if json_output {
        print_json(
            &json!({"added": report.added.iter().map(ToString::to_string).collect::<Vec<_>>(), "duplicates": report.duplicates}),
        )?;
    } else {
        for id in &report.added {
            println!("added {id}");
        }
        for index in &report.duplicates {
            println!("already in the vault: argument {}", index + 1);
        }
    }
    Ok(())
}

/// The accounts of one argument: an export's (its broken entries reported and skipped) or
/// an otpauth:// URI's one.
fn accounts_of(uri: &str) -> Result<Vec<Account>, CliError> {
    if payload::kind_of(uri) != payload::PayloadKind::MigrationBatch {
        return Ok(vec![otpauth::parse(uri)?.account]);
    }
    let batch = migration::decode(uri)?;
    for failure in &batch.failures {
        eprintln!(
            "countersign: skipped \"{}\": {}",
            failure.name, failure.error
        );
    }
    Ok(batch.accounts)
}

pub(super) fn list(
    args: &VaultOptions,
    search: Option<&str>,
    show_secret: bool,
    json_output: bool,
) -> Result<(), CliError> {
    let vault = open(args)?;
    let entries: Vec<_> = match search {
        Some(query) => vault.search(query)?,
        None => vault.entries()?.iter().collect(),
    };
    if json_output {
        let list: Vec<_> = entries
            .iter()
            .map(|e| json!({"id": e.id.to_string(), "account": AccountView::new(&e.account, show_secret), "tags": e.meta.tags, "notes": e.meta.notes}))
            .collect();
        print_json(&list)?;
    } else {
        for e in entries {
            println!("{}  {}", e.id, e.account.display_name());
        }
    }
    Ok(())
}

pub(super) fn code(
    args: &VaultOptions,
    account: Option<&str>,
    at: Option<u64>,
    json_output: bool,
) -> Result<(), CliError> {
    let mut vault = open(args)?;
    let time = at.unwrap_or_else(|| SystemClock.now_unix());
    let ids: Vec<EntryId> = match account {
        Some(key) => vec![find(&vault, key)?],
        None => vault
            .entries()?
            .iter()
            .filter(|e| e.account.params.counter().is_none())
            .map(|e| e.id)
            .collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        let entry = vault.entry(id)?.clone();
        let code = if entry.account.params.counter().is_some() {
            vault.next_hotp_code(id)?
        } else {
            entry.account.code_at(time)
        };
        out.push((id, entry.account.display_name(), CodeView::from(code)));
    }
    if json_output {
        print_json(
            &out.iter()
                .map(|(id, name, code)| json!({"id": id.to_string(), "name": name, "code": code}))
                .collect::<Vec<_>>(),
        )?;
    } else {
        for (_, name, code) in out {
            println!("{}  {}", code.code, name);
        }
    }
    Ok(())
}

pub(super) fn remove(args: &VaultOptions, id: &str) -> Result<(), CliError> {
    let mut vault = open(args)?;
    let id = EntryId::parse(id)
        .ok_or_else(|| CliError::Usage(format!("\"{id}\" is not an account id")))?;
    vault.delete(id)?;
    println!("removed {id}");
    Ok(())
}
