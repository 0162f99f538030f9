//! Device registrations kept in the vault (docs/vault.md, Devices): for each server, the
//! device id, the user's id, the server's challenge key and — when the device key is a
//! software key — its secret scalar. One sealed record per server, bound to the vault and to
//! the server URL by its associated data.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::crypto::{self, Aad};
use super::{Vault, VaultError, now};

/// One registration as stored. `software_key` is `None` when the key lives in the platform's
/// key store (Secure Enclave, Android Keystore).
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub server_url: String,
    pub device_id: i64,
    pub authy_id: i64,
    pub server_public_key: Vec<u8>,
    pub software_key: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRecord")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("authy_id", &self.authy_id)
            .field(
                "software_key",
                &self.software_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The sealed plaintext; wiped when dropped (it holds the software key).
#[derive(Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct Stored {
    v: u32,
    device_id: i64,
    authy_id: i64,
    server_public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_key: Option<String>,
}

fn aad(vault_id: &[u8; 16], server_url: &str) -> Aad {
    Aad::new("countersign-vault-device-v1")
        .bytes(vault_id)
        .bytes(server_url.as_bytes())
}

impl Vault {
    /// Saves (or replaces) the registration for `record.server_url`.
    pub fn save_device(&mut self, record: &DeviceRecord) -> Result<(), VaultError> {
        let key = &self.unlocked.as_ref().ok_or(VaultError::Locked)?.key;
        let stored = Stored {
            v: 1,
            device_id: record.device_id,
            authy_id: record.authy_id,
            server_public_key: STANDARD.encode(&record.server_public_key),
            software_key: record
                .software_key
                .as_ref()
                .map(|secret| STANDARD.encode(secret.as_slice())),
        };
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&stored).map_err(|e| VaultError::Storage(e.to_string()))?,
        );
        let (nonce, ciphertext) = crypto::seal(
            key,
            aad(&self.vault_id, &record.server_url).as_slice(),
            &plaintext,
        );
        self.conn.execute(
            "INSERT INTO devices (server_url, updated_at, nonce, ciphertext) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (server_url) DO UPDATE SET updated_at = ?2, nonce = ?3, ciphertext = ?4",
            params![record.server_url, now(), &nonce[..], ciphertext],
        )?;
        Ok(())
    }

    /// Every stored registration. A record that fails to open is an integrity error.
    pub fn devices(&self) -> Result<Vec<DeviceRecord>, VaultError> {
        let key = &self.unlocked.as_ref().ok_or(VaultError::Locked)?.key;
        let mut statement = self
            .conn
            .prepare("SELECT server_url, nonce, ciphertext FROM devices ORDER BY server_url")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (server_url, nonce, ciphertext) = row?;
            let damaged =
                || VaultError::Storage(format!("the registration for {server_url} is damaged"));
            let plaintext = crypto::open(
                key,
                aad(&self.vault_id, &server_url).as_slice(),
                &nonce,
                &ciphertext,
            )
            .ok_or_else(damaged)?;
            let stored: Stored = serde_json::from_slice(&plaintext).map_err(|_| damaged())?;
            let software_key = match &stored.software_key {
                Some(secret) => Some(Zeroizing::new(
                    STANDARD.decode(secret).map_err(|_| damaged())?,
                )),
                None => None,
            };
            records.push(DeviceRecord {
                device_id: stored.device_id,
                authy_id: stored.authy_id,
                server_public_key: STANDARD
                    .decode(&stored.server_public_key)
                    .map_err(|_| damaged())?,
                software_key,
                server_url,
            });
        }
        Ok(records)
    }

    /// Forgets the registration for `server_url`; true when there was one.
    pub fn remove_device(&mut self, server_url: &str) -> Result<bool, VaultError> {
        if self.unlocked.is_none() {
            return Err(VaultError::Locked);
        }
        Ok(self.conn.execute(
            "DELETE FROM devices WHERE server_url = ?1",
            params![server_url],
        )? > 0)
    }
}
