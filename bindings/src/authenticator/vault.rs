//! The vault's lifecycle: create or open the file, unlock it (passphrase, recovery code,
//! platform key), add a platform-key slot, lock it.

use std::path::PathBuf;
use std::sync::Arc;

use countersign_app::vault::{KdfParams, Vault};
use zeroize::Zeroizing;

use super::{Authenticator, Result, locked};
use crate::platform::{Clock, KeyProvider, KeyProviderBridge};

/// How hard the passphrase key derivation is (Argon2id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KdfStrength {
    /// 128 MiB, 5 passes (about half a second on a current phone).
    Standard,
    /// 19 MiB, 2 passes: OWASP's minimum, for low-memory devices.
    Minimum,
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
        let passphrase = Zeroizing::new(passphrase);
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
        let passphrase = Zeroizing::new(passphrase);
        Ok(locked(&self.vault)?.unlock_with_passphrase(&passphrase)?)
    }

    pub fn unlock_with_recovery_code(&self, code: String) -> Result<()> {
        let code = Zeroizing::new(code);
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
}
