//! `DeviceSigner`: where the device key lives. The shells implement it with the Secure
//! Enclave and Android Keystore (StrongBox first); `SoftwareSigner` keeps the key in memory
//! (sealed in the vault when stored) for tests, desktops and the CLI.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use zeroize::Zeroizing;

use super::sig::der_to_raw;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    #[error("the device key is not available: {0}")]
    Unavailable(String),
    #[error("the user did not authenticate")]
    AuthenticationRequired,
    #[error("signing failed: {0}")]
    Failed(String),
}

/// An ES256 key that signs on behalf of the device.
pub trait DeviceSigner: Send + Sync {
    /// The public key as SubjectPublicKeyInfo DER.
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError>;
    /// ECDSA P-256 over SHA-256 of `message`, DER-encoded (as platform key stores return it).
    fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// The signature as JOSE's raw `r ‖ s`.
    fn sign_raw(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        let der = self.sign_der(message)?;
        der_to_raw(&der).map_err(|e| SignerError::Failed(e.to_string()))
    }
}

pub struct SoftwareSigner {
    key: SigningKey,
}

impl SoftwareSigner {
    pub fn generate() -> SoftwareSigner {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rand::fill(&mut bytes[..]);
            // A random 32-byte string is a valid scalar except with negligible probability.
            if let Ok(key) = SigningKey::from_slice(&bytes[..]) {
                return SoftwareSigner { key };
            }
        }
    }

    /// From a 32-byte secret scalar (as stored, sealed, in the vault).
    pub fn from_secret(bytes: &[u8]) -> Option<SoftwareSigner> {
        SigningKey::from_slice(bytes)
            .ok()
            .map(|key| SoftwareSigner { key })
    }

    /// From a PKCS#8 private key, PEM (`-----BEGIN PRIVATE KEY-----`, e.g. an APNs `.p8`
    /// key) or DER.
    pub fn from_pkcs8(bytes: &[u8]) -> Option<SoftwareSigner> {
        use p256::pkcs8::DecodePrivateKey;
        let der = match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                let body: String = text
                    .lines()
                    .filter(|line| !line.starts_with("-----"))
                    .flat_map(|line| line.trim().chars())
                    .collect();
                use base64::Engine;
                Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .ok()?,
                )
            }
            _ => Zeroizing::new(bytes.to_vec()),
        };
        SigningKey::from_pkcs8_der(&der)
            .ok()
            .map(|key| SoftwareSigner { key })
    }

    /// The secret scalar, for sealing in the vault.
    pub fn secret(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.key.to_bytes().to_vec())
    }
}

impl DeviceSigner for SoftwareSigner {
    fn public_key_spki(&self) -> Result<Vec<u8>, SignerError> {
        self.key
            .verifying_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| SignerError::Failed(e.to_string()))
    }

    fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let signature: Signature = self.key.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

/// Verifies a raw `r ‖ s` ES256 signature with a SubjectPublicKeyInfo DER public key.
pub fn verify_es256(public_key_spki: &[u8], message: &[u8], raw_signature: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_public_key_der(public_key_spki) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(raw_signature) else {
        return false;
    };
    key.verify(message, &signature).is_ok()
}
