//! Countersign's encrypted backup file (docs/backup.md): a fixed header, then the accounts
//! as JSON sealed with XChaCha20-Poly1305 under an Argon2id key from the backup's own
//! passphrase. The header is the associated data, so no byte of it can change unnoticed.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::kdf::{Kdf, KdfBudget};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::Clock;
use crate::otp::SystemClock;
use crate::vault::crypto::{self, NONCE_LEN};
use crate::vault::record::RecordV1;
use crate::vault::{Entry, KdfParams};

pub const MAGIC: &[u8; 8] = b"CSBACKUP";
pub const VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const HEADER_LEN: usize = 8 + 1 + 12 + SALT_LEN + NONCE_LEN;
const FORMAT: ImportFormat = ImportFormat::Countersign;

#[derive(Serialize, Deserialize)]
struct Payload {
    format: String,
    version: u32,
    created_at: u64,
    entries: Vec<RecordV1>,
}

/// Writes a backup of `entries` under `passphrase`. The result is safe to store anywhere.
pub fn export(entries: &[Entry], passphrase: &str, kdf: KdfParams) -> Option<Vec<u8>> {
    if passphrase.is_empty() {
        return None;
    }
    let mut salt = [0u8; SALT_LEN];
    rand::fill(&mut salt[..]);
    let key = kdf.derive(passphrase.as_bytes(), &salt)?;
    let payload = Payload {
        format: "countersign-backup".into(),
        version: 1,
        created_at: SystemClock.now_unix(),
        entries: entries
            .iter()
            .map(|e| RecordV1::new(&e.account, &e.meta))
            .collect(),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&payload).ok()?);
    let nonce = crypto::random_nonce();
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    for value in [kdf.memory_kib, kdf.iterations, kdf.parallelism] {
        header.extend_from_slice(&value.to_be_bytes());
    }
    header.extend_from_slice(&salt);
    header.extend_from_slice(&nonce);
    let ciphertext = crypto::seal_with_nonce(&key, &header, &nonce, &plain);
    header.extend_from_slice(&ciphertext);
    Some(header)
}

pub fn import(
    data: &[u8],
    passphrase: &str,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    if data.len() < HEADER_LEN + 16 || &data[..8] != MAGIC {
        return Err(ImportError::invalid(FORMAT, "not a Countersign backup"));
    }
    if data[8] != VERSION {
        return Err(ImportError::Unsupported(format!(
            "backup format version {} is newer than this app",
            data[8]
        )));
    }
    let word = |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let kdf = KdfParams {
        memory_kib: word(9),
        iterations: word(13),
        parallelism: word(17),
    };
    // Bounds first: the header is not authenticated until the key it asks for is derived.
    budget.charge(Kdf::Argon2id(kdf))?;
    let salt = &data[21..21 + SALT_LEN];
    let nonce = &data[21 + SALT_LEN..HEADER_LEN];
    let key = kdf
        .derive(passphrase.as_bytes(), salt)
        .ok_or(ImportError::WrongPassword)?;
    let plain = crypto::open(&key, &data[..HEADER_LEN], nonce, &data[HEADER_LEN..])
        .ok_or(ImportError::WrongPassword)?;
    let payload: Payload = super::json::parse(FORMAT, &plain)?;
    if payload.format != "countersign-backup" {
        return Err(ImportError::invalid(FORMAT, "unexpected payload"));
    }
    let mut report = ReportBuilder::new();
    for (index, record) in payload.entries.into_iter().enumerate() {
        report.record(index, format!("entry {}", index + 1), record.into_parts());
    }
    Ok(report.finish())
}
