//! Secrets at rest (user seeds, API keys needed to sign callbacks) are sealed with
//! XChaCha20-Poly1305 under the server's master key, bound to their table and row; the
//! database alone reveals none of them. The key comes from `COUNTERSIGN_MASTER_KEY` (hex) or
//! a key file created beside the database on first start (mode 0600).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::ServerError;

#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    pub fn from_hex(hex: &str) -> Result<MasterKey, ServerError> {
        // Either case, as hand-edited key files may have it.
        let bytes = Zeroizing::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .map_err(|_| {
                    ServerError::Config("the master key must be 64 hex characters".into())
                })?,
        );
        let array: [u8; 32] = bytes[..]
            .try_into()
            .map_err(|_| ServerError::Config("the master key must be 64 hex characters".into()))?;
        Ok(MasterKey(Zeroizing::new(array)))
    }

    /// Reads the key file, creating it with a fresh random key if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, ServerError> {
        if path.exists() {
            let text = Zeroizing::new(std::fs::read_to_string(path)?);
            return MasterKey::from_hex(text.trim());
        }
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut key[..]);
        let hex = Zeroizing::new(data_encoding::HEXLOWER.encode(&key[..]));
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        file.write_all(hex.as_bytes())?;
        file.sync_all()?;
        Ok(MasterKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    /// `base64(nonce ‖ ciphertext)`, bound to `context` (e.g. "users.seed:42").
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::fill(&mut nonce[..]);
        let aad = format!("countersign-server-v1:{context}");
        let ciphertext = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        STANDARD_NO_PAD.encode([nonce.as_slice(), &ciphertext].concat())
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, ServerError> {
        let bytes = STANDARD_NO_PAD
            .decode(sealed)
            .map_err(|_| ServerError::Sealed)?;
        if bytes.len() < 24 {
            return Err(ServerError::Sealed);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| ServerError::Sealed)?;
        let aad = format!("countersign-server-v1:{context}");
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| ServerError::Sealed)
    }
}

#[cfg(test)]
mod hex_tests {
    use super::MasterKey;

    #[test]
    fn the_master_key_is_64_hex_characters_in_either_case() {
        let lower = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = MasterKey::from_hex(lower).unwrap();
        let upper = MasterKey::from_hex(&lower.to_ascii_uppercase()).unwrap();
        assert_eq!(key.0[..], upper.0[..]);
        assert_eq!(key.0[1], 0x11);
        assert_eq!(key.0[31], 0xff);
        for bad in [
            &lower[..62],
            &lower[..63],
            &format!("{lower}00"),
            &lower.replace('a', "g"),
        ] {
            assert!(MasterKey::from_hex(bad).is_err(), "{bad}");
        }
    }
}
