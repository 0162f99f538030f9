//! Key slots: each wraps the vault key under one way of unlocking (passphrase, platform key
//! store, recovery code). Adding or removing a slot never re-encrypts records.

use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::crypto::{self, Aad, Key};
use crate::secret::Secret;

/// Argon2id cost. The default (128 MiB, 5 passes, 1 lane) takes ≈0.5 s on the 2-core
/// development machine (benches/vault.rs), well above OWASP's minimum (19 MiB, 2 passes,
/// 1 lane); 128 MiB stays within what a phone app may allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 128 * 1024,
        iterations: 5,
        parallelism: 1,
    };
    /// OWASP's minimum; for tests and benchmarks that are not about the KDF.
    pub const MINIMUM: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Most memory one derivation may use: what a phone app can allocate without being
    /// killed (Ente Auth starts its own derivations at 256 MiB for the same reason).
    pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
    /// Most memory traffic (memory × passes) of one derivation: 1 GiB, about 1 s on the
    /// development machine and a few on a phone. The default uses 640 MiB.
    pub const MAX_WORK_KIB: u32 = 1024 * 1024;
    pub const MAX_ITERATIONS: u32 = 16;
    pub const MAX_PARALLELISM: u32 = 8;

    /// Memory × passes, in KiB.
    pub fn work_kib(&self) -> u64 {
        u64::from(self.memory_kib) * u64::from(self.iterations)
    }

    /// Refuses parameters below OWASP's minimum or above what a phone survives: a vault or
    /// backup file carries its own parameters, and a hostile one must not exhaust memory or
    /// make unlocking take minutes. Limits: docs/vault.md.
    pub fn is_acceptable(&self) -> bool {
        let minimum = KdfParams::MINIMUM;
        (minimum.memory_kib..=KdfParams::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=KdfParams::MAX_ITERATIONS).contains(&self.iterations)
            && (1..=KdfParams::MAX_PARALLELISM).contains(&self.parallelism)
            && (minimum.work_kib()..=u64::from(KdfParams::MAX_WORK_KIB)).contains(&self.work_kib())
    }

    pub fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Option<Key> {
        if !self.is_acceptable() {
            return None;
        }
        let params =
            Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32)).ok()?;
        let argon = Argon2::new(Argon2Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase, salt, &mut out[..])
            .ok()?;
        Key::from_slice(&out[..])
    }
}

/// What a slot needs besides the wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlotParams {
    Passphrase {
        kdf: KdfParams,
        #[serde(with = "hex_bytes")]
        salt: Vec<u8>,
    },
    /// Wrapped by the platform key store; `provider` names the key it used.
    Platform { provider: String },
    Recovery {
        #[serde(with = "hex_bytes")]
        salt: Vec<u8>,
    },
}

impl SlotParams {
    pub fn kind(&self) -> &'static str {
        match self {
            SlotParams::Passphrase { .. } => "passphrase",
            SlotParams::Platform { .. } => "platform",
            SlotParams::Recovery { .. } => "recovery",
        }
    }
}

/// A platform key store that wraps and unwraps the vault key: Android Keystore or the iOS
/// Keychain / Secure Enclave in the apps, [`SoftwareKeyProvider`] in tests and the CLI.
pub trait KeyProvider: Send + Sync {
    /// A stable name for the key used, stored with the slot.
    fn provider_id(&self) -> String;
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyProviderError>;
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProviderError {
    #[error("the platform key is not available: {0}")]
    Unavailable(String),
    #[error("the user did not authenticate")]
    AuthenticationRequired,
    #[error("the platform key store refused: {0}")]
    Failed(String),
}

/// A key provider whose wrapping key lives in memory. Stands in for the platform key store in
/// tests and on desktops.
pub struct SoftwareKeyProvider {
    id: String,
    key: Key,
}

impl SoftwareKeyProvider {
    pub fn new(id: impl Into<String>) -> Self {
        SoftwareKeyProvider {
            id: id.into(),
            key: Key::generate(),
        }
    }

    pub fn from_key(id: impl Into<String>, key: &[u8]) -> Option<Self> {
        Some(SoftwareKeyProvider {
            id: id.into(),
            key: Key::from_slice(key)?,
        })
    }

    fn aad(&self) -> Aad {
        Aad::new("countersign-software-key-provider-v1").bytes(self.id.as_bytes())
    }
}

impl KeyProvider for SoftwareKeyProvider {
    fn provider_id(&self) -> String {
        self.id.clone()
    }

    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        let (nonce, ciphertext) = crypto::seal(&self.key, self.aad().as_slice(), key);
        Ok([nonce.as_slice(), &ciphertext].concat())
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyProviderError> {
        if wrapped.len() < crypto::NONCE_LEN {
            return Err(KeyProviderError::Failed("wrapped key too short".into()));
        }
        let (nonce, ciphertext) = wrapped.split_at(crypto::NONCE_LEN);
        crypto::open(&self.key, self.aad().as_slice(), nonce, ciphertext)
            .ok_or_else(|| KeyProviderError::Failed("wrong key".into()))
    }
}

/// A recovery code: 160 random bits, shown once as 8 groups of 4 base32 characters.
pub struct RecoveryCode(Secret);

impl RecoveryCode {
    pub fn generate() -> RecoveryCode {
        RecoveryCode(Secret::generate(20))
    }

    /// Reads a code as the user types it: any case, dashes and spaces ignored.
    pub fn parse(text: &str) -> Option<RecoveryCode> {
        let secret = Secret::from_base32(text).ok()?;
        (secret.expose().len() == 20).then_some(RecoveryCode(secret))
    }

    /// `ABCD-EFGH-…`: for the user to write down. It unlocks the vault: show it once.
    pub fn display(&self) -> Zeroizing<String> {
        let b32 = Zeroizing::new(self.0.to_base32());
        let groups: Vec<&str> = (0..b32.len())
            .step_by(4)
            .map(|i| &b32[i..(i + 4).min(b32.len())])
            .collect();
        Zeroizing::new(groups.join("-"))
    }

    /// The recovery code is high-entropy, so a fast KDF suffices.
    pub fn derive(&self, salt: &[u8]) -> Option<Key> {
        let hk = Hkdf::<Sha256>::new(Some(salt), self.0.expose());
        let mut out = Zeroizing::new([0u8; 32]);
        hk.expand(b"countersign recovery slot v1", &mut out[..])
            .ok()?;
        Key::from_slice(&out[..])
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        crate::vault::hex_decode(&text).ok_or_else(|| serde::de::Error::custom("invalid hex"))
    }
}
