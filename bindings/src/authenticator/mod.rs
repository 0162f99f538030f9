//! `Authenticator`: the one long-lived object an app holds.
//!
//! Lifetime: create or open it when the app starts (it starts locked when opened), unlock it,
//! lock it when the app goes to the background (the key and every secret are wiped), close it
//! (Kotlin `close()` / `use {}`, Swift deinit) when the app ends. One per vault file. Every
//! method is safe to call from any thread; calls are serialised on the vault.
//!
//! One file per area of the object, each with its own `#[uniffi::export] impl Authenticator`
//! (the generated Kotlin and Swift still see one class): [`vault`] (create, open, unlock,
//! lock), [`accounts`], [`codes`], [`scan`], [`transfer`] (imports, backups) and [`devices`]
//! (registration and approvals, async). This file holds the object and what the areas share.

mod accounts;
mod codes;
mod devices;
mod scan;
mod transfer;
mod vault;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use countersign_app::device::Challenge;
use countersign_app::scan::FrameScanner;
use countersign_app::vault::{EntryId, Vault};

use crate::error::CountersignError;
use crate::platform::{Clock, ClockBridge};

pub use vault::KdfStrength;

type Result<T> = std::result::Result<T, CountersignError>;

#[derive(uniffi::Object)]
pub struct Authenticator {
    vault: Mutex<Vault>,
    clock: Box<dyn countersign_app::Clock>,
    frames: Mutex<FrameScanner>,
    /// Verified challenges from the last `pending_approvals`, by uuid, with the registration
    /// that fetched them.
    challenges: Mutex<HashMap<String, (String, Challenge)>>,
}

impl Authenticator {
    fn new(vault: Vault, clock: Option<Arc<dyn Clock>>) -> Arc<Authenticator> {
        Arc::new(Authenticator {
            vault: Mutex::new(vault),
            clock: match clock {
                Some(clock) => Box::new(ClockBridge(clock)),
                None => Box::new(countersign_app::SystemClock),
            },
            frames: Mutex::new(FrameScanner::new()),
            challenges: Mutex::new(HashMap::new()),
        })
    }
}

fn locked<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| CountersignError::Internal {
        reason: "a previous call panicked".into(),
    })
}

fn entry_id(id: &str) -> Result<EntryId> {
    EntryId::parse(id).ok_or_else(|| CountersignError::InvalidInput {
        reason: format!("\"{id}\" is not an account id"),
    })
}
