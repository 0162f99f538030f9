//! Moving accounts in and out: imports from other authenticators' exports, and Countersign's
//! own encrypted backup (docs/transfer.md, docs/backup.md).

use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::KdfParams;
use zeroize::Zeroizing;

use super::{Authenticator, Result, locked};
use crate::error::CountersignError;
use crate::records::ImportSummary;

#[uniffi::export]
impl Authenticator {
    pub fn import_accounts(
        &self,
        format: ImportFormat,
        data: Vec<u8>,
        password: Option<String>,
    ) -> Result<ImportSummary> {
        let data = Zeroizing::new(data);
        let password = password.map(Zeroizing::new);
        let report = transfer::import(format, &data, password.as_ref().map(|p| p.as_str()))?;
        let failures = report
            .failures
            .iter()
            .map(|f| format!("entry {} ({}): {}", f.index + 1, f.name, f.reason))
            .collect();
        let in_file = report.duplicates.len();
        let added = locked(&self.vault)?.add_many(
            report
                .accounts
                .into_iter()
                .map(|i| (i.account, i.meta))
                .collect(),
            false,
        )?;
        Ok(ImportSummary {
            added: added.added.len() as u32,
            duplicates: (added.duplicates.len() + in_file) as u32,
            failures,
        })
    }

    /// An encrypted Countersign backup of every account (docs/backup.md).
    pub fn export_backup(&self, password: String) -> Result<Vec<u8>> {
        let password = Zeroizing::new(password);
        let vault = locked(&self.vault)?;
        transfer::export_backup(vault.entries()?, &password, KdfParams::DEFAULT).ok_or(
            CountersignError::InvalidInput {
                reason: "the backup password must not be empty".into(),
            },
        )
    }
}
