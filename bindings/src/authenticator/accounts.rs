//! The accounts in the vault: list, search, enrol from a scanned or pasted URI, edit,
//! delete, reorder.

use countersign_app::payload::{self, PayloadKind};
use countersign_app::vault::EntryMeta;
use countersign_app::{migration, otpauth};
use zeroize::Zeroizing;

use super::{Authenticator, Result, entry_id, locked};
use crate::records::AccountInfo;

#[uniffi::export]
impl Authenticator {
    pub fn accounts(&self) -> Result<Vec<AccountInfo>> {
        Ok(locked(&self.vault)?
            .entries()?
            .iter()
            .map(AccountInfo::from_entry)
            .collect())
    }

    pub fn search(&self, query: String) -> Result<Vec<AccountInfo>> {
        Ok(locked(&self.vault)?
            .search(&query)?
            .into_iter()
            .map(AccountInfo::from_entry)
            .collect())
    }

    /// Enrols from scanned or pasted text: an `otpauth://` URI (one account) or an
    /// `otpauth-migration://` export part (its accounts). Returns the accounts added.
    pub fn add_from_uri(&self, text: String, tags: Vec<String>) -> Result<Vec<AccountInfo>> {
        let text = Zeroizing::new(text);
        let accounts = if payload::kind_of(&text) == PayloadKind::MigrationBatch {
            migration::decode(&text)?.accounts
        } else {
            vec![otpauth::parse(&text)?.account]
        };
        let meta = EntryMeta {
            tags,
            ..EntryMeta::default()
        };
        let mut vault = locked(&self.vault)?;
        let report = vault.add_many(
            accounts.into_iter().map(|a| (a, meta.clone())).collect(),
            false,
        )?;
        report
            .added
            .iter()
            .map(|id| {
                vault
                    .entry(*id)
                    .map(AccountInfo::from_entry)
                    .map_err(Into::into)
            })
            .collect()
    }

    /// Edits what the user may edit: issuer, label, tags, notes.
    pub fn update_account(
        &self,
        id: String,
        issuer: Option<String>,
        label: String,
        tags: Vec<String>,
        notes: String,
    ) -> Result<()> {
        let id = entry_id(&id)?;
        let mut vault = locked(&self.vault)?;
        let entry = vault.entry(id)?;
        let mut account = entry.account.clone();
        account.issuer = issuer.filter(|i| !i.trim().is_empty());
        account.label = label;
        let meta = EntryMeta {
            tags,
            notes,
            icon: entry.meta.icon.clone(),
        };
        Ok(vault.update(id, account, meta)?)
    }

    pub fn delete_account(&self, id: String) -> Result<()> {
        Ok(locked(&self.vault)?.delete(entry_id(&id)?)?)
    }

    /// The display order, as account ids.
    pub fn reorder(&self, ids: Vec<String>) -> Result<()> {
        let ids = ids
            .iter()
            .map(|id| entry_id(id))
            .collect::<Result<Vec<_>>>()?;
        Ok(locked(&self.vault)?.reorder(&ids)?)
    }
}
