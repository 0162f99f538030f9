//! Moving accounts in and out: imports from other authenticators' exports (recognised, or in
//! a named format), exports to every format the core writes, and Countersign's own
//! encrypted backup (docs/transfer.md, docs/backup.md).
//!
//! Both directions answer per entry — what was imported, what failed and why, what the
//! target format could not hold — so the app can show the user exactly what moved.

use countersign_app::transfer::{self, ExportFormat, ImportFormat, ImportReport};
use countersign_app::vault::KdfParams;
use zeroize::Zeroizing;

use super::{Authenticator, Result, locked};
use crate::error::CountersignError;
use crate::records::{
    EntryMessage, ExportFormatInfo, ExportNotice, ExportResult, ImportSummary, ImportedAccount,
    OtpType,
};

/// Every export format, in the order a picker lists them, with what its password field
/// should offer.
#[uniffi::export]
pub fn export_formats() -> Vec<ExportFormatInfo> {
    ExportFormat::ALL
        .iter()
        .map(|&format| ExportFormatInfo {
            format,
            name: format.name().to_owned(),
            can_encrypt: format.can_encrypt(),
            needs_password: format.needs_password(),
        })
        .collect()
}

#[uniffi::export]
impl Authenticator {
    /// Imports a file of any format Countersign reads, recognising it. A file that turns
    /// out to be encrypted fails with `PasswordRequired` when `password` is `None`: ask the
    /// user and call again (`WrongPassphrase` if the password is wrong).
    pub fn import_file(&self, data: Vec<u8>, password: Option<String>) -> Result<ImportSummary> {
        let data = Zeroizing::new(data);
        let password = password.map(Zeroizing::new);
        let (format, report) = transfer::import_auto(&data, password.as_ref().map(|p| p.as_str()))?;
        self.add_imported(format, report)
    }

    /// Imports a file in the named format (`import_file` recognises it instead).
    pub fn import_accounts(
        &self,
        format: ImportFormat,
        data: Vec<u8>,
        password: Option<String>,
    ) -> Result<ImportSummary> {
        let data = Zeroizing::new(data);
        let password = password.map(Zeroizing::new);
        let report = transfer::import(format, &data, password.as_ref().map(|p| p.as_str()))?;
        self.add_imported(format, report)
    }

    /// Every account in `format`, encrypted under `password` where the format can be (see
    /// `export_formats`). Accounts the format cannot hold are in `notices`, never dropped
    /// silently.
    pub fn export_accounts(
        &self,
        format: ExportFormat,
        password: Option<String>,
    ) -> Result<ExportResult> {
        let password = password.map(Zeroizing::new);
        let vault = locked(&self.vault)?;
        let export = transfer::export(
            format,
            vault.entries()?,
            password.as_ref().map(|p| p.as_str()),
        )?;
        let notices = export
            .notices
            .into_iter()
            .map(|n| ExportNotice {
                index: n.index as u32,
                name: n.name,
                skipped: n.skipped,
                reason: n.reason,
            })
            .collect();
        Ok(ExportResult {
            // The app receives the file to write; this copy leaves Rust's control.
            data: export.bytes.to_vec(),
            exported: export.exported as u32,
            notices,
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

impl Authenticator {
    /// Adds what an import read and says, per entry, what happened to it.
    fn add_imported(&self, format: ImportFormat, report: ImportReport) -> Result<ImportSummary> {
        // What each account is, kept before the accounts (and their secrets) move to the vault.
        let read: Vec<(Option<String>, String, OtpType)> = report
            .accounts
            .iter()
            .map(|i| {
                (
                    i.account.issuer.clone(),
                    i.account.label.clone(),
                    OtpType::of(&i.account),
                )
            })
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
        // Both lists are in input order: new ids for the accounts added, positions for those
        // already held. One pass over each (an import may hold tens of thousands).
        let mut new_ids = added.added.iter();
        let mut held = added.duplicates.iter().peekable();
        let accounts = read
            .into_iter()
            .enumerate()
            .map(|(position, (issuer, label, otp_type))| {
                let already_held = held.next_if(|&&p| p == position).is_some();
                ImportedAccount {
                    issuer,
                    label,
                    otp_type,
                    account_id: if already_held {
                        None
                    } else {
                        new_ids.next().map(ToString::to_string)
                    },
                }
            })
            .collect();
        let message = |index: usize, name: String, message: String| EntryMessage {
            index: index as u32,
            name,
            message,
        };
        Ok(ImportSummary {
            format,
            accounts,
            added: added.added.len() as u32,
            duplicates: (added.duplicates.len() + in_file) as u32,
            failures: report
                .failures
                .into_iter()
                .map(|f| message(f.index, f.name, f.reason))
                .collect(),
            notices: report
                .notices
                .into_iter()
                .map(|n| message(n.index, n.name, n.notice))
                .collect(),
            not_otp: report.not_otp as u32,
        })
    }
}
