//! FreeOTP 2 backups (freeotp-android `mobile/`, `TokenPersistence.java`,
//! `encryptor/MasterKey.java`, `encryptor/EncryptedKey.java`), read from either file the
//! app leaves:
//!
//! - `externalBackup.xml` — despite its name, a Java serialization stream of the backup
//!   preferences map (`ObjectOutputStream.writeObject(getAll())`, see [`super::java_serial`]);
//! - `shared_prefs/tokenBackup.xml` — the same map as a SharedPreferences file.
//!
//! The map holds `masterKey`, and per account `<uuid>` = `{"key": "<EncryptedKey JSON>"}`
//! and `<uuid>-token` = the token JSON (no secret; see [`super::freeotp`]).
//!
//! `masterKey` (Gson): `mAlgorithm` (`PBKDF2withHmacSHA512`, or `…SHA1` on devices
//! without it), `mIterations` (100,000), `mSalt` (32 signed bytes), `mEncryptedKey`.
//! An EncryptedKey: `mCipher` = `AES/GCM/NoPadding`, `mCipherText` (ciphertext‖tag),
//! `mParameters` (the cipher's `AlgorithmParameters.getEncoded()`: DER
//! `SEQUENCE { OCTET STRING iv, INTEGER tagBytes }`, RFC 5084 `GCMParameters`), and
//! `mToken`, the wrapped key's algorithm name, which is also the AES-GCM additional data.
//! The password key is PBKDF2(password, salt, iterations) with as many bytes as the salt;
//! it unwraps the 32-byte master key (`mToken` = `AES`), which unwraps each account's
//! secret (`mToken` = `HmacSHA1`, …).

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use serde_json::Value;
use zeroize::Zeroizing;

use super::freeotp::{Naming, byte_list, signed_bytes, token_entry};
use super::kdf::{Kdf, KdfBudget};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder, java_serial, prefs_xml};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::FreeOtp;
const MASTER_KEY: &str = "masterKey";
const TOKEN_SUFFIX: &str = "-token";
const GCM: &str = "AES/GCM/NoPadding";

/// Whether a SharedPreferences file is FreeOTP 2's backup map (it holds `masterKey`).
pub fn is_backup_prefs(prefs: &prefs_xml::Prefs) -> bool {
    prefs.string(MASTER_KEY).is_some()
}

/// Reads `externalBackup.xml`, the serialization stream.
pub fn import_stream(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let map = java_serial::read_string_map(FORMAT, data)?;
    import_map(&map, password, budget)
}

/// Reads `tokenBackup.xml`, the preferences file.
pub fn import_prefs(
    prefs: &prefs_xml::Prefs,
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let map: Vec<(String, String)> = prefs
        .strings()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    import_map(&map, password, budget)
}

fn import_map(
    map: &[(String, String)],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let by_key: HashMap<&str, &str> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let master_json = by_key
        .get(MASTER_KEY)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no masterKey: not a FreeOTP backup"))?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let master = unwrap_master_key(master_json, password, budget)?;
    let mut report = ReportBuilder::new();
    let accounts = map
        .iter()
        .filter(|(key, _)| key != MASTER_KEY && !key.ends_with(TOKEN_SUFFIX));
    for (index, (uuid, sealed)) in accounts.enumerate() {
        let token = by_key
            .get(format!("{uuid}{TOKEN_SUFFIX}").as_str())
            .copied();
        let token = token.and_then(|t| super::json::parse::<Value>(FORMAT, t.as_bytes()).ok());
        let name = token
            .as_ref()
            .and_then(|t| t.get("label"))
            .and_then(Value::as_str)
            .unwrap_or(uuid)
            .to_owned();
        let result = account(sealed, token.as_ref(), &master);
        report.record(index, name, result);
    }
    Ok(report.finish())
}

/// One account: its secret unwrapped with the master key, its token JSON.
fn account(
    sealed: &str,
    token: Option<&Value>,
    master: &[u8],
) -> Result<(Account, EntryMeta), String> {
    let token = token.ok_or("no token data (its `-token` entry is missing or not JSON)")?;
    let outer: Value = super::json::parse(FORMAT, sealed.as_bytes()).map_err(|e| e.to_string())?;
    let inner = outer
        .get("key")
        .and_then(Value::as_str)
        .ok_or("no encrypted key")?;
    let encrypted: Value =
        super::json::parse(FORMAT, inner.as_bytes()).map_err(|e| e.to_string())?;
    let secret = EncryptedKey::from_json(&encrypted)?
        .open(master)
        .ok_or("the secret does not decrypt with this backup's master key")?;
    let secret = Secret::from_bytes(secret.to_vec()).map_err(|e| e.to_string())?;
    token_entry(token, secret, Naming::V2)
}

/// The password-wrapped master key, after the derivation was charged to `budget`.
fn unwrap_master_key(
    json: &str,
    password: &str,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let master: Value = super::json::parse(FORMAT, json.as_bytes())?;
    let invalid = |reason: &str| ImportError::invalid(FORMAT, format!("masterKey: {reason}"));
    let algorithm = master
        .get("mAlgorithm")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no mAlgorithm"))?;
    let iterations = master
        .get("mIterations")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("no mIterations"))?;
    let salt = signed_bytes(master.get("mSalt")).map_err(|_| invalid("no mSalt"))?;
    let wrapped = master
        .get("mEncryptedKey")
        .ok_or_else(|| invalid("no mEncryptedKey"))
        .and_then(|k| EncryptedKey::from_json(k).map_err(|e| invalid(&e)))?;
    // The key is as long as the salt (`MasterKey.decrypt`): AES-128 or AES-256.
    if !matches!(salt.expose().len(), 16 | 32) {
        return Err(invalid("the salt is neither 16 nor 32 bytes"));
    }
    let iterations = u32::try_from(iterations).map_err(|_| ImportError::ExcessiveKdf {
        reason: format!("PBKDF2 with {iterations} iterations"),
    })?;
    let mut key = Zeroizing::new(vec![0u8; salt.expose().len()]);
    let (pw, salt) = (password.as_bytes(), salt.expose());
    if algorithm.eq_ignore_ascii_case("PBKDF2withHmacSHA512") {
        budget.charge(Kdf::Pbkdf2 { iterations })?;
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pw, salt, iterations, &mut key);
    } else if algorithm.eq_ignore_ascii_case("PBKDF2withHmacSHA1") {
        budget.charge(Kdf::Pbkdf2 { iterations })?;
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, iterations, &mut key);
    } else {
        return Err(ImportError::Unsupported(format!(
            "FreeOTP master key derived with {algorithm}"
        )));
    }
    wrapped.open(&key).ok_or(ImportError::WrongPassword)
}

/// FreeOTP's `EncryptedKey`: AES-GCM ciphertext‖tag, its IV, and the additional data.
struct EncryptedKey {
    ciphertext: Vec<u8>,
    iv: [u8; 12],
    aad: String,
}

impl EncryptedKey {
    fn from_json(json: &Value) -> Result<EncryptedKey, String> {
        let cipher = json.get("mCipher").and_then(Value::as_str);
        if cipher != Some(GCM) {
            return Err(format!("the key is not sealed with {GCM}"));
        }
        let bytes = |key: &str| byte_list(json.get(key)).ok_or_else(|| format!("no {key}"));
        let parameters = bytes("mParameters")?;
        let iv = gcm_iv(&parameters).ok_or("mParameters are not GCM parameters FreeOTP writes")?;
        let aad = json
            .get("mToken")
            .and_then(Value::as_str)
            .ok_or("no mToken")?
            .to_owned();
        Ok(EncryptedKey {
            ciphertext: bytes("mCipherText")?,
            iv,
            aad,
        })
    }

    /// The plaintext, or `None` when the tag does not verify under `key`.
    fn open(&self, key: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let payload = Payload {
            msg: &self.ciphertext,
            aad: self.aad.as_bytes(),
        };
        let nonce = aes_gcm::Nonce::from(self.iv);
        let plain = match key.len() {
            32 => aes_gcm::Aes256Gcm::new_from_slice(key)
                .ok()?
                .decrypt(&nonce, payload),
            16 => aes_gcm::Aes128Gcm::new_from_slice(key)
                .ok()?
                .decrypt(&nonce, payload),
            _ => return None,
        };
        plain.ok().map(Zeroizing::new)
    }
}

/// The 12-byte IV of DER `GCMParameters` (`SEQUENCE { OCTET STRING, INTEGER }`, or a bare
/// `OCTET STRING`). A stated tag length must be 16 bytes, the only one FreeOTP uses; an
/// omitted one is taken as 16 too, as Aegis's importer does.
fn gcm_iv(der: &[u8]) -> Option<[u8; 12]> {
    let body = match der {
        [0x30, len, body @ ..] if usize::from(*len) == body.len() && *len < 0x80 => body,
        [0x04, ..] => der,
        _ => return None,
    };
    let [0x04, 12, rest @ ..] = body else {
        return None;
    };
    let (iv, tail) = rest.split_at_checked(12)?;
    match tail {
        [] | [0x02, 0x01, 16] => iv.try_into().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_gcm_parameters_java_encodes() {
        let iv: Vec<u8> = (1..=12).collect();
        let mut der = vec![0x30, 17, 0x04, 12];
        der.extend_from_slice(&iv);
        der.extend_from_slice(&[0x02, 0x01, 16]);
        assert_eq!(gcm_iv(&der).map(|i| i.to_vec()), Some(iv.clone()));
        assert_eq!(gcm_iv(&der[2..16]).map(|i| i.to_vec()), Some(iv.clone()));
        let mut short_tag = der.clone();
        short_tag[18] = 12;
        assert_eq!(gcm_iv(&short_tag), None, "a 96-bit tag");
        assert_eq!(gcm_iv(&der[..10]), None);
        assert_eq!(gcm_iv(&[0x30, 0x81, 0]), None);
    }
}
