//! Bitwarden's unencrypted JSON export, written by Countersign: the shape Bitwarden's own
//! exporter writes (`encrypted: false`, `folders`, `items` of type 1 = login) and
//! `bitwarden.rs` reads. Each account is a login item named after its issuer (or label),
//! with the label as username and the account in `login.totp`: an otpauth URI, or
//! `steam://SECRET` for Steam, the form Bitwarden's authenticator reads.
//!
//! What Bitwarden cannot hold, named per entry: HOTP (its authenticator computes only
//! time-based codes: the entry is left out rather than shown with wrong codes). An entry's
//! first tag becomes its folder and the tag `favorite` the item's favourite mark; further
//! tags are named in a notice. Notes go to the item's notes.

use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::export::{Export, ExportNotice};
use crate::account::OtpKind;
use crate::otpauth;
use crate::vault::Entry;

/// The tag that stands for Bitwarden's favourite mark, both ways (`bitwarden.rs`).
const FAVORITE_TAG: &str = "favorite";

pub fn export(entries: &[Entry]) -> Export {
    let mut folders: Vec<(String, String)> = Vec::new();
    let mut notices = Vec::new();
    let mut items = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let account = &entry.account;
        let notice = |skipped: bool, reason: &str| ExportNotice {
            index,
            name: account.display_name(),
            skipped,
            reason: reason.into(),
        };
        let totp = match account.params.kind() {
            OtpKind::Hotp { .. } => {
                notices.push(notice(
                    true,
                    "Bitwarden computes only time-based codes: HOTP accounts are not exported",
                ));
                continue;
            }
            OtpKind::Yandex | OtpKind::Motp => {
                notices.push(notice(
                    true,
                    "Bitwarden computes only TOTP and Steam codes: this account is not exported",
                ));
                continue;
            }
            OtpKind::Steam => format!("steam://{}", account.secret.to_base32()),
            OtpKind::Totp { .. } => otpauth::to_uri(account),
        };
        let favorite = entry.meta.tags.iter().any(|t| t == FAVORITE_TAG);
        let mut other_tags = entry.meta.tags.iter().filter(|t| *t != FAVORITE_TAG);
        let folder_id = other_tags.next().map(|tag| folder_id(&mut folders, tag));
        if other_tags.next().is_some() {
            notices.push(notice(
                false,
                "a Bitwarden item has one folder: only the first tag is kept",
            ));
        }
        let name = match account.issuer.clone().filter(|i| !i.is_empty()) {
            Some(issuer) => issuer,
            None => {
                // Bitwarden's importers (and ours) read the item's name as the issuer.
                notices.push(notice(
                    false,
                    "a Bitwarden item needs a name: the account name is written as the issuer",
                ));
                account.label.clone()
            }
        };
        items.push(json!({
            "id": super::export::random_uuid(),
            "organizationId": null,
            "folderId": folder_id,
            "type": 1,
            "reprompt": 0,
            "name": name,
            "notes": Some(&entry.meta.notes).filter(|n| !n.is_empty()),
            "favorite": favorite,
            "login": {"uris": [], "username": account.label, "password": null, "totp": totp},
            "collectionIds": null,
        }));
    }
    let folders: Vec<Value> = folders
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    let file = json!({"encrypted": false, "folders": folders, "items": items});
    let bytes = Zeroizing::new(serde_json::to_vec_pretty(&file).unwrap_or_default());
    Export::new(bytes, entries.len(), notices)
}

/// The id of the folder called `name`, added when new.
fn folder_id(folders: &mut Vec<(String, String)>, name: &str) -> String {
    if let Some((id, _)) = folders.iter().find(|(_, n)| n == name) {
        return id.clone();
    }
    let id = super::export::random_uuid();
    folders.push((id.clone(), name.to_owned()));
    id
}
