//! Sealing with XChaCha20-Poly1305 and the associated data that binds each ciphertext to
//! its place (docs/vault.md).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;

/// A 256-bit key, zeroized when dropped.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    pub fn generate() -> Key {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::fill(&mut bytes[..]);
        Key(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Key> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Key(Zeroizing::new(array)))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

pub fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce[..]);
    nonce
}

/// Encrypts with a fresh random nonce; returns (nonce, ciphertext with tag).
pub fn seal(key: &Key, aad: &[u8], plaintext: &[u8]) -> ([u8; NONCE_LEN], Vec<u8>) {
    let nonce = random_nonce();
    let ciphertext = seal_with_nonce(key, aad, &nonce, plaintext);
    (nonce, ciphertext)
}

/// Encrypts under a nonce the caller drew at random (it must never repeat under a key).
pub fn seal_with_nonce(
    key: &Key,
    aad: &[u8],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    // Encryption fails only for inputs beyond 256 GiB, which nothing here approaches.
    cipher
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default()
}

/// Decrypts and authenticates; `None` when anything (key, nonce, data, AAD) is wrong.
pub fn open(key: &Key, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// Associated data: a domain label, then fixed-width fields.
pub struct Aad(Vec<u8>);

impl Aad {
    pub fn new(domain: &str) -> Aad {
        let mut bytes = Vec::with_capacity(96);
        bytes.extend_from_slice(domain.as_bytes());
        bytes.push(0);
        Aad(bytes)
    }

    pub fn bytes(mut self, field: &[u8]) -> Aad {
        self.0
            .extend_from_slice(&(field.len() as u32).to_be_bytes());
        self.0.extend_from_slice(field);
        self
    }

    pub fn u64(mut self, value: u64) -> Aad {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}
