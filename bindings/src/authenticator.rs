//! `Authenticator`: the one long-lived object an app holds.
//!
//! Lifetime: create or open it when the app starts (it starts locked when opened), unlock it,
//! lock it when the app goes to the background (the key and every secret are wiped), close it
//! (Kotlin `close()` / `use {}`, Swift deinit) when the app ends. One per vault file. Every
//! method is safe to call from any thread; calls are serialised on the vault. The device calls
//! (registration, approvals) are in `devices.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use countersign_app::device::Challenge;
use countersign_app::scan::{self, FrameScanner, LumaFrame};
use countersign_app::vault::{EntryId, EntryMeta, KdfParams, Vault};
use countersign_app::{SystemClock, migration, otpauth, transactional, transfer, txotp};

use crate::error::CountersignError;
use crate::platform::{Clock, ClockBridge, KeyProvider, KeyProviderBridge};
use crate::records::{
    AccountInfo, CodeInfo, Detail, ImportFormat, ImportSummary, ScannedQr, TransactionCode,
};

type Result<T> = std::result::Result<T, CountersignError>;

/// How hard the passphrase key derivation is (Argon2id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KdfStrength {
    /// 128 MiB, 5 passes (about half a second on a current phone).
    Standard,
    /// 19 MiB, 2 passes: OWASP's minimum, for low-memory devices.
    Minimum,
}

#[derive(uniffi::Object)]
pub struct Authenticator {
    pub(crate) vault: Mutex<Vault>,
    clock: Box<dyn countersign_app::Clock>,
    frames: Mutex<FrameScanner>,
    /// Verified challenges from the last `pending_approvals`, by uuid, with the registration
    /// that fetched them.
    pub(crate) challenges: Mutex<HashMap<String, (String, Challenge)>>,
}

pub(crate) fn locked<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| CountersignError::Internal {
        reason: "a previous call panicked".into(),
    })
}

fn entry_id(id: &str) -> Result<EntryId> {
    EntryId::parse(id).ok_or_else(|| CountersignError::InvalidInput {
        reason: format!("\"{id}\" is not an account id"),
    })
}

fn details(list: &[(String, String)]) -> Vec<Detail> {
    list.iter()
        .map(|(key, value)| Detail {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

impl Authenticator {
    fn new(vault: Vault, clock: Option<Arc<dyn Clock>>) -> Arc<Authenticator> {
        Arc::new(Authenticator {
            vault: Mutex::new(vault),
            clock: match clock {
                Some(clock) => Box::new(ClockBridge(clock)),
                None => Box::new(SystemClock),
            },
            frames: Mutex::new(FrameScanner::new()),
            challenges: Mutex::new(HashMap::new()),
        })
    }
}

#[uniffi::export]
impl Authenticator {
    /// Creates a new vault at `path`, unlocked.
    #[uniffi::constructor]
    pub fn create(
        path: String,
        passphrase: String,
        kdf: KdfStrength,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Authenticator>> {
        let passphrase = zeroize::Zeroizing::new(passphrase);
        let params = match kdf {
            KdfStrength::Standard => KdfParams::DEFAULT,
            KdfStrength::Minimum => KdfParams::MINIMUM,
        };
        let vault = Vault::create(&PathBuf::from(path), &passphrase, params)?;
        Ok(Authenticator::new(vault, clock))
    }

    /// Opens an existing vault, locked.
    #[uniffi::constructor]
    pub fn open(path: String, clock: Option<Arc<dyn Clock>>) -> Result<Arc<Authenticator>> {
        Ok(Authenticator::new(
            Vault::open(&PathBuf::from(path))?,
            clock,
        ))
    }

    pub fn unlock_with_passphrase(&self, passphrase: String) -> Result<()> {
        let passphrase = zeroize::Zeroizing::new(passphrase);
        Ok(locked(&self.vault)?.unlock_with_passphrase(&passphrase)?)
    }

    pub fn unlock_with_recovery_code(&self, code: String) -> Result<()> {
        let code = zeroize::Zeroizing::new(code);
        Ok(locked(&self.vault)?.unlock_with_recovery_code(&code)?)
    }

    /// Biometric unlock through the platform key store.
    pub fn unlock_with_key_provider(&self, provider: Arc<dyn KeyProvider>) -> Result<()> {
        Ok(locked(&self.vault)?.unlock_with_provider(&KeyProviderBridge(provider))?)
    }

    /// Adds a slot the platform key store opens; returns the slot id.
    pub fn add_key_provider_slot(&self, provider: Arc<dyn KeyProvider>) -> Result<String> {
        Ok(locked(&self.vault)?.add_platform_slot(&KeyProviderBridge(provider))?)
    }

    /// Wipes the key and every secret from memory.
    pub fn lock(&self) {
        if let Ok(mut vault) = self.vault.lock() {
            vault.lock();
        }
        if let Ok(mut challenges) = self.challenges.lock() {
            challenges.clear();
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.vault.lock().map(|v| v.is_unlocked()).unwrap_or(false)
    }

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
        let text = zeroize::Zeroizing::new(text);
        let accounts = if text
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("otpauth-migration:")
        {
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

    /// Codes of every time-based account now (by the authenticator's clock).
    pub fn codes(&self) -> Result<Vec<CodeInfo>> {
        self.codes_at(self.clock.now_unix())
    }

    pub fn codes_at(&self, unix_time: u64) -> Result<Vec<CodeInfo>> {
        Ok(locked(&self.vault)?
            .codes_at(unix_time)?
            .into_iter()
            .filter_map(|(id, code)| {
                code.map(|code| CodeInfo {
                    account_id: id.to_string(),
                    code: code.code.to_string(),
                    seconds_remaining: code.seconds_remaining,
                })
            })
            .collect())
    }

    /// The next code of an HOTP account; the counter is saved before the code is returned.
    pub fn next_hotp_code(&self, id: String) -> Result<CodeInfo> {
        let code = locked(&self.vault)?.next_hotp_code(entry_id(&id)?)?;
        Ok(CodeInfo {
            account_id: id,
            code: code.code.to_string(),
            seconds_remaining: None,
        })
    }

    /// The transactional code of an account for a scanned `txotp://` transaction, with the
    /// transaction to display next to it.
    pub fn transactional_code(
        &self,
        account_id: String,
        txotp_text: String,
    ) -> Result<TransactionCode> {
        let transaction = txotp::parse(&txotp_text)?.transaction;
        let vault = locked(&self.vault)?;
        let entry = vault.entry(entry_id(&account_id)?)?;
        let code = transactional::code(&entry.account, &transaction, self.clock.now_unix())?;
        Ok(TransactionCode {
            code: code.to_string(),
            message: transaction.message.clone(),
            details: details(&transaction.details),
        })
    }

    /// Scans one camera frame's luma plane (Android `YUV_420_888` Y plane, iOS 4:2:0 Y plane)
    /// without copying it: `frame` is borrowed for this call only. Remembers where the last
    /// code was, so call it from one camera session.
    pub fn scan_frame(
        &self,
        frame: &[u8],
        width: u32,
        height: u32,
        row_stride: u32,
    ) -> Result<Vec<ScannedQr>> {
        let frame = LumaFrame::new(frame, width as usize, height as usize, row_stride as usize)?;
        let found = locked(&self.frames)?.scan(&frame);
        Ok(found.into_iter().map(ScannedQr::from).collect())
    }

    /// Scans an image file (PNG, JPEG, WebP, GIF), e.g. a screenshot.
    pub fn scan_image(&self, encoded: Vec<u8>) -> Result<Vec<ScannedQr>> {
        Ok(scan::scan_image(&encoded)?
            .into_iter()
            .map(ScannedQr::from)
            .collect())
    }

    pub fn import_accounts(
        &self,
        format: ImportFormat,
        data: Vec<u8>,
        password: Option<String>,
    ) -> Result<ImportSummary> {
        let data = zeroize::Zeroizing::new(data);
        let password = password.map(zeroize::Zeroizing::new);
        let report = transfer::import(format.into(), &data, password.as_ref().map(|p| p.as_str()))?;
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
        let password = zeroize::Zeroizing::new(password);
        let vault = locked(&self.vault)?;
        transfer::export_backup(vault.entries()?, &password, KdfParams::DEFAULT).ok_or(
            CountersignError::InvalidInput {
                reason: "the backup password must not be empty".into(),
            },
        )
    }
}
