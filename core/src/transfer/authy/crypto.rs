//! Authy's per-token encryption under the user's backup password: key =
//! PBKDF2-HMAC-SHA1(password, salt as its UTF-8 text, iterations, 32 bytes); the seed is
//! AES-256-CBC with PKCS#7 padding, under the token's own IV when it has one (`unique_iv`,
//! hex) and 16 zero bytes otherwise (tokens encrypted before Authy added per-token IVs).
//! The plaintext is the base32 secret as text. CBC has no tag: a wrong password shows as
//! bad padding or as a plaintext that is not secret text, both reported as
//! [`Decrypted::WrongPassword`].

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use sha1::Sha1;
use zeroize::Zeroizing;

/// Longest encrypted seed accepted, in bytes: the longest base32 text of a secret of
/// [`countersign_otp::secret::MAX_SECRET_BYTES`], padded.
pub const MAX_CIPHERTEXT_BYTES: usize = 2048;

/// One token's encryption parameters, as read from the file.
pub struct EncryptedSeed {
    pub ciphertext: Vec<u8>,
    pub salt: Vec<u8>,
    pub iv: [u8; 16],
    pub iterations: u32,
}

/// The outcome of decrypting one seed.
pub enum Decrypted {
    /// The seed's text (printable ASCII, not yet checked as base32).
    Text(Zeroizing<String>),
    /// Bad padding, or a plaintext that is not text: the password does not fit.
    WrongPassword,
}

impl std::fmt::Debug for EncryptedSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedSeed")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// Derives the key and decrypts. The caller has charged `seed.iterations` to the budget.
pub fn decrypt(seed: &EncryptedSeed, password: &str) -> Decrypted {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha1>(
        password.as_bytes(),
        &seed.salt,
        seed.iterations,
        &mut key[..],
    );
    let Ok(cipher) = cbc::Decryptor::<aes::Aes256>::new_from_slices(&key[..], &seed.iv) else {
        return Decrypted::WrongPassword;
    };
    let mut buffer = Zeroizing::new(seed.ciphertext.clone());
    let Ok(plain) = cipher.decrypt_padded::<Pkcs7>(&mut buffer[..]) else {
        return Decrypted::WrongPassword;
    };
    // Secrets are base32 text; with a wrong key, a padding that happens to be valid is
    // followed by bytes that are not all printable ASCII (odds below 10^-9 for 20 bytes).
    if plain.is_empty() || !plain.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Decrypted::WrongPassword;
    }
    let text = plain.iter().map(|&b| char::from(b)).collect::<String>();
    Decrypted::Text(Zeroizing::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/formats/authy.md's worked vector (token 1 of authenticator-encrypted.xml,
    /// written by core/tests/reference/make_authy_fixtures.py).
    fn vector() -> EncryptedSeed {
        let hex = |text: &str| crate::transfer::hex(text).unwrap();
        EncryptedSeed {
            ciphertext: hex(
                "83333c3f5e8a057382216fee7cea96bb1c806ee8d73a57096d2cfad7fa5d7545\
                 6202622b90d49b4af1d6b41bbdcabb42",
            ),
            salt: b"eiuqaqta2vvcvf3mk7ahcomdmpfjbppo".to_vec(),
            iv: hex("d545eab4000638af078c2c2bc1cbad0b").try_into().unwrap(),
            iterations: 2000,
        }
    }

    #[test]
    fn decrypts_the_worked_vector() {
        match decrypt(&vector(), "authy-backup-password") {
            Decrypted::Text(text) => assert_eq!(text.as_str(), "KGSETIH5NVDARP2US7WIVV4YQ4VA6ALB"),
            Decrypted::WrongPassword => panic!("the right password was refused"),
        }
    }

    #[test]
    fn a_wrong_password_or_iv_is_told_apart() {
        assert!(matches!(
            decrypt(&vector(), "not the password"),
            Decrypted::WrongPassword
        ));
        // The zero IV of old tokens garbles the first block: not secret text.
        let zero_iv = EncryptedSeed {
            iv: [0; 16],
            ..vector()
        };
        assert!(matches!(
            decrypt(&zero_iv, "authy-backup-password"),
            Decrypted::WrongPassword
        ));
    }
}
