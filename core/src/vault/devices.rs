//! Device registrations kept in the vault (docs/vault.md, Devices): for each registration,
//! the server, the device id, the user's id, the server's challenge key and where the device
//! key is — its secret scalar for a software key, its alias for a platform key.
//!
//! Rows are keyed by a registration id the device mints, not by the server: one phone may hold
//! several registrations with one bank (two customers, personal and business accounts, a
//! re-registration), and replacing one by another would lose a key the server still lists.
//! Each row is sealed and bound to the vault, its registration id and its server URL by its
//! associated data. Rows sealed before schema 3 (bound to the server URL only, "seal 1") still
//! open, and are sealed again the current way when next saved.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::crypto::{self, Aad};
use super::{Vault, VaultError, now};

/// The alias of the one platform key registrations used before each got its own (the iOS
/// shell's default Secure Enclave tag). Rows sealed before schema 3 without a software key
/// name it.
pub const SHARED_PLATFORM_KEY_ALIAS: &str = "app.countersign.device-key";

/// The current seal: AAD over vault id, registration id and server URL.
const SEAL: i64 = 2;

/// Where a registration's device key is.
#[derive(Clone, PartialEq, Eq)]
pub enum DeviceKey {
    /// A software key: its secret scalar, sealed with the record.
    Software(Zeroizing<Vec<u8>>),
    /// A key in the platform's key store (Secure Enclave, Android Keystore) under `alias`.
    Platform { alias: String },
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceKey::Software(_) => f.write_str("Software(<redacted>)"),
            DeviceKey::Platform { alias } => {
                f.debug_struct("Platform").field("alias", alias).finish()
            }
        }
    }
}

/// One registration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// This registration's local id ([`new_registration_id`]): the row's key.
    pub registration_id: String,
    pub server_url: String,
    pub device_id: i64,
    pub authy_id: i64,
    pub server_public_key: Vec<u8>,
    pub key: DeviceKey,
}

/// A fresh registration id: 16 random bytes as 32 lowercase hex digits.
pub fn new_registration_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    data_encoding::HEXLOWER.encode(&bytes)
}

/// The sealed plaintext; wiped when dropped (it holds the software key).
#[derive(Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct Stored {
    v: u32,
    device_id: i64,
    authy_id: i64,
    server_public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    software_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_alias: Option<String>,
}

fn aad(vault_id: &[u8; 16], seal: i64, registration_id: &str, server_url: &str) -> Aad {
    if seal == 1 {
        return Aad::new("countersign-vault-device-v1")
            .bytes(vault_id)
            .bytes(server_url.as_bytes());
    }
    Aad::new("countersign-vault-device-v2")
        .bytes(vault_id)
        .bytes(registration_id.as_bytes())
        .bytes(server_url.as_bytes())
}

/// A row as read, before opening.
struct Row {
    registration_id: String,
    server_url: String,
    seal: i64,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl Stored {
    fn of(record: &DeviceRecord) -> Stored {
        let (software_key, key_alias) = match &record.key {
            DeviceKey::Software(secret) => (Some(STANDARD.encode(secret.as_slice())), None),
            DeviceKey::Platform { alias } => (None, Some(alias.clone())),
        };
        Stored {
            v: 2,
            device_id: record.device_id,
            authy_id: record.authy_id,
            server_public_key: STANDARD.encode(&record.server_public_key),
            software_key,
            key_alias,
        }
    }

    fn into_record(self, row: Row) -> Option<DeviceRecord> {
        let key = match (&self.software_key, &self.key_alias) {
            (Some(secret), _) => DeviceKey::Software(Zeroizing::new(STANDARD.decode(secret).ok()?)),
            (None, Some(alias)) => DeviceKey::Platform {
                alias: alias.clone(),
            },
            // Before schema 3 every registration without a software key used the shared key.
            (None, None) => DeviceKey::Platform {
                alias: SHARED_PLATFORM_KEY_ALIAS.to_owned(),
            },
        };
        Some(DeviceRecord {
            registration_id: row.registration_id,
            server_url: row.server_url,
            device_id: self.device_id,
            authy_id: self.authy_id,
            server_public_key: STANDARD.decode(&self.server_public_key).ok()?,
            key,
        })
    }
}

impl Vault {
    /// Saves (or replaces) the registration `record.registration_id`; any other registration,
    /// with this server or another, is kept.
    pub fn save_device(&mut self, record: &DeviceRecord) -> Result<(), VaultError> {
        let key = &self.unlocked.as_ref().ok_or(VaultError::Locked)?.key;
        if record.registration_id.is_empty() {
            return Err(VaultError::Storage("a registration needs an id".into()));
        }
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&Stored::of(record))
                .map_err(|e| VaultError::Storage(e.to_string()))?,
        );
        let associated = aad(
            &self.vault_id,
            SEAL,
            &record.registration_id,
            &record.server_url,
        );
        let (nonce, ciphertext) = crypto::seal(key, associated.as_slice(), &plaintext);
        self.conn.execute(
            "INSERT INTO devices (registration_id, server_url, seal, updated_at, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (registration_id) DO UPDATE
             SET server_url = ?2, seal = ?3, updated_at = ?4, nonce = ?5, ciphertext = ?6",
            params![
                record.registration_id,
                record.server_url,
                SEAL,
                now(),
                &nonce[..],
                ciphertext
            ],
        )?;
        Ok(())
    }

    /// Every stored registration, by server URL and then in the order they were added. A
    /// record that fails to open is an integrity error.
    pub fn devices(&self) -> Result<Vec<DeviceRecord>, VaultError> {
        let key = &self.unlocked.as_ref().ok_or(VaultError::Locked)?.key;
        let mut statement = self.conn.prepare(
            "SELECT registration_id, server_url, seal, nonce, ciphertext FROM devices
             ORDER BY server_url, rowid",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Row {
                registration_id: row.get(0)?,
                server_url: row.get(1)?,
                seal: row.get(2)?,
                nonce: row.get(3)?,
                ciphertext: row.get(4)?,
            })
        })?;
        let mut records = Vec::new();
        for row in rows {
            let row = row?;
            let damaged = || {
                VaultError::Storage(format!(
                    "the registration {} with {} is damaged",
                    row.registration_id, row.server_url
                ))
            };
            let associated = aad(
                &self.vault_id,
                row.seal,
                &row.registration_id,
                &row.server_url,
            );
            let plaintext = crypto::open(key, associated.as_slice(), &row.nonce, &row.ciphertext)
                .ok_or_else(damaged)?;
            let stored: Stored = serde_json::from_slice(&plaintext).map_err(|_| damaged())?;
            let error = damaged();
            records.push(stored.into_record(row).ok_or(error)?);
        }
        Ok(records)
    }

    /// Forgets the registration `registration_id`; true when there was one.
    pub fn remove_device(&mut self, registration_id: &str) -> Result<bool, VaultError> {
        if self.unlocked.is_none() {
            return Err(VaultError::Locked);
        }
        Ok(self.conn.execute(
            "DELETE FROM devices WHERE registration_id = ?1",
            params![registration_id],
        )? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::KdfParams;

    const PASS: &str = "correct horse battery staple";

    /// Writes a registration the way schema 2 did: one row per server, sealed with the
    /// server-bound associated data ("seal 1").
    fn write_schema_2_row(vault: &Vault, server_url: &str, json: &str) {
        let key = &vault.unlocked.as_ref().unwrap().key;
        let (nonce, ciphertext) = crypto::seal(
            key,
            aad(&vault.vault_id, 1, "", server_url).as_slice(),
            json.as_bytes(),
        );
        vault
            .conn
            .execute(
                "INSERT INTO devices (server_url, updated_at, nonce, ciphertext) VALUES (?1, 0, ?2, ?3)",
                params![server_url, &nonce[..], ciphertext],
            )
            .unwrap();
    }

    #[test]
    fn schema_2_registrations_survive_the_migration_and_are_resealed_when_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.vault");
        let vault = Vault::create(&path, PASS, KdfParams::MINIMUM).unwrap();
        // Make the file schema 2: the devices table keyed by server URL.
        vault
            .conn
            .execute_batch(
                "DROP TABLE devices;
                 CREATE TABLE devices (server_url TEXT PRIMARY KEY, updated_at INTEGER NOT NULL,
                     nonce BLOB NOT NULL, ciphertext BLOB NOT NULL);
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        write_schema_2_row(
            &vault,
            "https://auth.bank.example",
            r#"{"v":1,"device_id":7,"authy_id":42,"server_public_key":"AQID"}"#,
        );
        write_schema_2_row(
            &vault,
            "https://shop.example",
            r#"{"v":1,"device_id":8,"authy_id":43,"server_public_key":"BAU=","software_key":"CQkJ"}"#,
        );
        drop(vault);

        let mut vault = Vault::open(&path).unwrap();
        vault.unlock_with_passphrase(PASS).unwrap();
        let records = vault.devices().unwrap();
        assert_eq!(records.len(), 2);
        let (bank, shop) = (&records[0], &records[1]);
        assert_eq!(
            (bank.server_url.as_str(), bank.device_id, bank.authy_id),
            ("https://auth.bank.example", 7, 42)
        );
        assert_eq!(bank.server_public_key, vec![1, 2, 3]);
        // Without a software key it used the one shared platform key.
        assert_eq!(
            bank.key,
            DeviceKey::Platform {
                alias: SHARED_PLATFORM_KEY_ALIAS.into()
            }
        );
        assert_eq!(shop.key, DeviceKey::Software(Zeroizing::new(vec![9, 9, 9])));
        assert_eq!(bank.registration_id.len(), 32);
        assert_ne!(bank.registration_id, shop.registration_id);

        // Saved again: sealed the current way, still the same registration.
        vault.save_device(bank).unwrap();
        let seal: i64 = vault
            .conn
            .query_row(
                "SELECT seal FROM devices WHERE registration_id = ?1",
                params![bank.registration_id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(seal, SEAL);
        assert_eq!(vault.devices().unwrap(), records);
    }
}
