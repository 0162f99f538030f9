//! What the shells implement (uniffi foreign traits) and the adapters that hand them to the
//! core as the core's own traits, so the core never sees an FFI type.

use std::sync::Arc;

use countersign_app::device::SignerError;
use countersign_app::vault::KeyProviderError;
use zeroize::Zeroizing;

use crate::error::CountersignError;

/// The device's ES256 key: Secure Enclave on iOS, Android Keystore (StrongBox first) on
/// Android. Signing may ask the user to authenticate; refuse with `KeyStore`.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The public key, SubjectPublicKeyInfo DER.
    fn public_key_spki(&self) -> Result<Vec<u8>, CountersignError>;
    /// ECDSA P-256 / SHA-256 over `message`, DER-encoded (what the platform APIs return).
    fn sign_der(&self, message: Vec<u8>) -> Result<Vec<u8>, CountersignError>;
}

/// Where the device keys live: one key per registration, so two banks (or two registrations
/// with one bank) never see the same public key and cannot link the phone by it. Android:
/// Keystore aliases; iOS: Secure Enclave key tags. The core picks each alias.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// Creates a new P-256 key under `alias` (an alias never used before) and returns it.
    fn create_key(&self, alias: String) -> Result<Arc<dyn DeviceSigner>, CountersignError>;
    /// The key created earlier under `alias`; `KeyStore` when it is gone.
    fn key(&self, alias: String) -> Result<Arc<dyn DeviceSigner>, CountersignError>;
    /// Deletes the key under `alias`. Deleting a key that does not exist is not an error.
    fn delete_key(&self, alias: String) -> Result<(), CountersignError>;
}

/// A platform-held key that wraps the vault key (biometric unlock): Keychain / Keystore.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    /// A stable name of the key, stored with the slot.
    fn provider_id(&self) -> String;
    fn wrap_key(&self, key: Vec<u8>) -> Result<Vec<u8>, CountersignError>;
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, CountersignError>;
}

/// The time codes are computed for (the system clock unless the app supplies one).
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    fn now_unix(&self) -> u64;
}

fn signer_error(error: CountersignError) -> SignerError {
    match error {
        CountersignError::KeyStore { reason } if reason.contains("authenticat") => {
            SignerError::AuthenticationRequired
        }
        CountersignError::KeyStore { reason } => SignerError::Unavailable(reason),
        other => SignerError::Failed(other.to_string()),
    }
}

fn key_provider_error(error: CountersignError) -> KeyProviderError {
    match error {
        CountersignError::KeyStore { reason } if reason.contains("authenticat") => {
            KeyProviderError::AuthenticationRequired
        }
        CountersignError::KeyStore { reason } => KeyProviderError::Unavailable(reason),
        other => KeyProviderError::Failed(other.to_string()),
    }
}

pub(crate) struct SignerBridge(pub Arc<dyn DeviceSigner>);

impl countersign_app::device::DeviceSigner for SignerBridge {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.0.public_key_spki().map_err(signer_error)
    }

    fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign_der(message.to_vec()).map_err(signer_error)
    }
}

pub(crate) struct KeyProviderBridge(pub Arc<dyn KeyProvider>);

impl countersign_app::vault::KeyProvider for KeyProviderBridge {
    fn provider_id(&self) -> String {
        self.0.provider_id()
    }

    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        self.0.wrap_key(key.to_vec()).map_err(key_provider_error)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        self.0
            .unwrap_key(wrapped.to_vec())
            .map(Zeroizing::new)
            .map_err(key_provider_error)
    }
}

pub(crate) struct ClockBridge(pub Arc<dyn Clock>);

impl countersign_app::Clock for ClockBridge {
    fn now_unix(&self) -> u64 {
        self.0.now_unix()
    }
}
