//! The encrypted account vault: SQLite (WAL, one transaction per change) holding account
//! records sealed with XChaCha20-Poly1305 under a random vault key, which key slots wrap.
//! Format and threat model: docs/vault.md.
//!
//! Lifetime: a [`Vault`] is opened locked; `unlock_*` decrypts every record into memory
//! (codes for all accounts need no disk access); [`Vault::lock`] and drop zeroize the key and
//! the secrets. One `Vault` per file per process; SQLite serialises writers across processes.

pub(crate) mod crypto;
mod devices;
mod error;
pub(crate) mod record;
mod schema;
mod slots;

/// Slots of one kind an unlock derives a key for, at most (the oldest first).
pub const MAX_SLOTS_TRIED: usize = 8;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use crate::Clock;
use crate::account::{Account, TimedCode};
use crate::otp::SystemClock;
use crate::transfer::dedup::AccountIndex;
use crypto::{Aad, Key};
pub use devices::{DeviceKey, DeviceRecord, SHARED_PLATFORM_KEY_ALIAS, new_registration_id};
pub use error::{IntegrityError, VaultError};
pub use record::EntryMeta;
use record::RecordV1;
pub use slots::{
    KdfParams, KeyProvider, KeyProviderError, RecoveryCode, SlotParams, SoftwareKeyProvider,
};

/// Version of the record encryption format, bound into every record's associated data.
pub const FORMAT_VERSION: u64 = 1;

/// Ids (accounts, slots, registrations) and hex fields are written in lowercase hex and read
/// in either case.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    HEXLOWER_PERMISSIVE.decode(text.as_bytes()).ok()
}

fn random_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand::fill(&mut id[..]);
    id
}

/// An account's id in the vault: 16 random bytes, shown as 32 hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId([u8; 16]);

impl EntryId {
    pub fn parse(text: &str) -> Option<EntryId> {
        hex_decode(text)?.try_into().ok().map(EntryId)
    }

    fn from_blob(bytes: &[u8]) -> Option<EntryId> {
        bytes.try_into().ok().map(EntryId)
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl std::fmt::Debug for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EntryId({self})")
    }
}

/// An account as the vault holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub account: Account,
    pub meta: EntryMeta,
    pub sort_order: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A key slot as listed to the user (no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub id: String,
    pub params: SlotParams,
    pub created_at: i64,
}

/// The result of adding several accounts at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddReport {
    pub added: Vec<EntryId>,
    /// Positions in the input of accounts already in the vault (same issuer, label, secret,
    /// and PIN for the kinds that have one).
    pub duplicates: Vec<usize>,
}

/// A key slot row: id, parameters (JSON), nonce, wrapped key, creation time.
type SlotRow = (Vec<u8>, String, Vec<u8>, Vec<u8>, i64);

/// What [`Vault::open_records`] found in the record rows.
#[derive(Default)]
struct OpenedRecords {
    /// In display order.
    entries: Vec<Entry>,
    damaged: Vec<IntegrityError>,
    /// Each row's revision, by id (the manifest's stand-in when the manifest is damaged).
    row_revisions: BTreeMap<EntryId, u64>,
}

struct Unlocked {
    key: Key,
    /// Sorted by `sort_order`.
    entries: Vec<Entry>,
    /// The manifest: every record's id and current revision.
    revisions: BTreeMap<EntryId, u64>,
    damaged: Vec<IntegrityError>,
}

pub struct Vault {
    conn: Connection,
    path: PathBuf,
    vault_id: [u8; 16],
    unlocked: Option<Unlocked>,
}

fn now() -> i64 {
    SystemClock.now_unix() as i64
}

/// The byte layouts of docs/vault.md, public so that tests and other implementations can
/// check them against the specification's vectors.
pub mod format {
    use super::{EntryId, EntryMeta, RecordV1};
    use crate::account::Account;

    pub fn record_aad(vault_id: &[u8; 16], record_id: &[u8; 16], revision: u64) -> Vec<u8> {
        super::record_aad(vault_id, &EntryId(*record_id), revision)
            .as_slice()
            .to_vec()
    }

    pub fn manifest_aad(vault_id: &[u8; 16]) -> Vec<u8> {
        super::manifest_aad(vault_id).as_slice().to_vec()
    }

    /// A record's plaintext (JSON) to the account and metadata it holds.
    pub fn decode_record(plaintext: &[u8]) -> Result<(Account, EntryMeta), String> {
        serde_json::from_slice::<RecordV1>(plaintext)
            .map_err(|e| e.to_string())?
            .into_parts()
    }
}

fn record_aad(vault_id: &[u8], id: &EntryId, revision: u64) -> Aad {
    Aad::new("countersign-vault-record-v1")
        .bytes(vault_id)
        .bytes(&id.0)
        .u64(FORMAT_VERSION)
        .u64(revision)
}

fn manifest_aad(vault_id: &[u8]) -> Aad {
    Aad::new("countersign-vault-manifest-v1")
        .bytes(vault_id)
        .u64(FORMAT_VERSION)
}

fn key_check_aad(vault_id: &[u8]) -> Aad {
    Aad::new("countersign-vault-key-check-v1")
        .bytes(vault_id)
        .u64(FORMAT_VERSION)
}

fn slot_aad(vault_id: &[u8], slot_id: &[u8], params: &str) -> Aad {
    Aad::new("countersign-vault-slot-v1")
        .bytes(vault_id)
        .bytes(slot_id)
        .bytes(params.as_bytes())
}

fn encode_manifest(revisions: &BTreeMap<EntryId, u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + revisions.len() * 24);
    out.extend_from_slice(&(revisions.len() as u32).to_be_bytes());
    for (id, revision) in revisions {
        out.extend_from_slice(&id.0);
        out.extend_from_slice(&revision.to_be_bytes());
    }
    out
}

fn decode_manifest(bytes: &[u8]) -> Option<BTreeMap<EntryId, u64>> {
    let count = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let body = bytes.get(4..)?;
    if body.len() != count * 24 {
        return None;
    }
    body.chunks_exact(24)
        .map(|c| {
            Some((
                EntryId(c[..16].try_into().ok()?),
                u64::from_be_bytes(c[16..].try_into().ok()?),
            ))
        })
        .collect()
}

fn configure(conn: &Connection) -> Result<(), VaultError> {
    // WAL with full sync: a commit that returned is on disk, and readers never see a torn
    // write. secure_delete overwrites freed pages, so deleted ciphertext does not linger.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Vault {
    /// Creates a new vault at `path` (which must not exist) protected by a passphrase, and
    /// returns it unlocked.
    pub fn create(path: &Path, passphrase: &str, kdf: KdfParams) -> Result<Vault, VaultError> {
        if passphrase.is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        if !kdf.is_acceptable() {
            return Err(VaultError::BadKdfParams);
        }
        if path.exists() {
            return Err(VaultError::Storage(format!(
                "{} already exists",
                path.display()
            )));
        }
        create_private_file(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let vault_id = random_id();
        let key = Key::generate();
        let revisions = BTreeMap::new();
        {
            let tx = conn.transaction()?;
            let (check_nonce, check) =
                crypto::seal(&key, key_check_aad(&vault_id).as_slice(), b"countersign");
            let (manifest_nonce, manifest) = crypto::seal(
                &key,
                manifest_aad(&vault_id).as_slice(),
                &encode_manifest(&revisions),
            );
            tx.execute(
                "INSERT INTO vault (singleton, vault_id, format_version, key_check_nonce, key_check, manifest_nonce, manifest)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![&vault_id[..], FORMAT_VERSION as i64, &check_nonce[..], check, &manifest_nonce[..], manifest],
            )?;
            insert_passphrase_slot(&tx, &vault_id, &key, passphrase, kdf)?;
            tx.commit()?;
        }
        Ok(Vault {
            conn,
            path: path.to_owned(),
            vault_id,
            unlocked: Some(Unlocked {
                key,
                entries: Vec::new(),
                revisions,
                damaged: Vec::new(),
            }),
        })
    }

    /// Opens an existing vault, locked.
    pub fn open(path: &Path) -> Result<Vault, VaultError> {
        if !path.exists() {
            return Err(VaultError::Missing);
        }
        if !path.is_file() {
            return Err(VaultError::NotAVault);
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn).or_else(|e| match e {
            // A read-only file cannot switch to WAL; it can still be read.
            VaultError::ReadOnly => Ok(()),
            other => Err(other),
        })?;
        let version = schema::version(&conn)?;
        if version == 0 {
            return Err(VaultError::NotAVault);
        }
        schema::migrate(&mut conn)?;
        let vault_id: Vec<u8> = conn
            .query_row("SELECT vault_id FROM vault WHERE singleton = 1", [], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(VaultError::NotAVault)?;
        let vault_id: [u8; 16] = vault_id.try_into().map_err(|_| VaultError::NotAVault)?;
        Ok(Vault {
            conn,
            path: path.to_owned(),
            vault_id,
            unlocked: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_unlocked(&self) -> bool {
        self.unlocked.is_some()
    }

    /// Forgets the key and every decrypted secret (zeroized).
    pub fn lock(&mut self) {
        self.unlocked = None;
    }

    fn slots_raw(&self) -> Result<Vec<SlotRow>, VaultError> {
        let mut stmt = self.conn.prepare("SELECT id, params, nonce, wrapped_key, created_at FROM key_slots ORDER BY created_at, id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Unlocks with a passphrase slot.
    pub fn unlock_with_passphrase(&mut self, passphrase: &str) -> Result<(), VaultError> {
        self.unlock_with_wrapping_slot(VaultError::WrongPassphrase, |params| match params {
            SlotParams::Passphrase { kdf, salt } => Some(
                kdf.derive(passphrase.as_bytes(), salt)
                    .ok_or(VaultError::BadKdfParams),
            ),
            _ => None,
        })
    }

    /// Unlocks with a recovery code.
    pub fn unlock_with_recovery_code(&mut self, code: &str) -> Result<(), VaultError> {
        let code = RecoveryCode::parse(code).ok_or(VaultError::WrongRecoveryCode)?;
        self.unlock_with_wrapping_slot(VaultError::WrongRecoveryCode, |params| match params {
            SlotParams::Recovery { salt } => {
                Some(code.derive(salt).ok_or(VaultError::WrongRecoveryCode))
            }
            _ => None,
        })
    }

    /// Tries the slots for which `kek_for` derives a key-encryption key (returns `None` for
    /// slots of other kinds); `wrong` when some slot was tried and none opened.
    ///
    /// At most [`MAX_SLOTS_TRIED`] slots are derived for: each derivation may cost up to the
    /// KDF bound, and a hostile vault file could hold any number of slots.
    fn unlock_with_wrapping_slot(
        &mut self,
        wrong: VaultError,
        kek_for: impl Fn(&SlotParams) -> Option<Result<Key, VaultError>>,
    ) -> Result<(), VaultError> {
        let mut tried = 0;
        for (id, params_text, nonce, wrapped, _) in self.slots_raw()? {
            if tried == MAX_SLOTS_TRIED {
                break;
            }
            let Ok(params) = serde_json::from_str::<SlotParams>(&params_text) else {
                continue;
            };
            let Some(kek) = kek_for(&params) else {
                continue;
            };
            tried += 1;
            let aad = slot_aad(&self.vault_id, &id, &params_text);
            if let Some(key) = crypto::open(&kek?, aad.as_slice(), &nonce, &wrapped) {
                return self.finish_unlock(&key);
            }
        }
        Err(if tried > 0 {
            wrong
        } else {
            VaultError::NoSuchSlot
        })
    }

    /// Unlocks with the platform key store's slot.
    pub fn unlock_with_provider(&mut self, provider: &dyn KeyProvider) -> Result<(), VaultError> {
        let wanted = provider.provider_id();
        for (id, params_text, nonce, wrapped, _) in self.slots_raw()? {
            let Ok(SlotParams::Platform { provider: name }) = serde_json::from_str(&params_text)
            else {
                continue;
            };
            if name != wanted {
                continue;
            }
            // wrapped_key = binding tag (16 bytes) || the provider's wrapping of the vault key.
            if wrapped.len() < 16 {
                return Err(VaultError::KeyCheck);
            }
            let (binding, provider_wrapped) = wrapped.split_at(16);
            let unwrapped = provider.unwrap_key(provider_wrapped)?;
            let key = Key::from_slice(&unwrapped).ok_or(VaultError::KeyCheck)?;
            // The binding is an empty seal under the vault key: it proves the key and ties the
            // slot to this vault and slot id.
            if crypto::open(
                &key,
                slot_aad(&self.vault_id, &id, &params_text).as_slice(),
                &nonce,
                binding,
            )
            .is_some()
            {
                return self.finish_unlock(key.as_bytes());
            }
            return Err(VaultError::KeyCheck);
        }
        Err(VaultError::NoSuchSlot)
    }

    fn finish_unlock(&mut self, key_bytes: &[u8]) -> Result<(), VaultError> {
        let key = Key::from_slice(key_bytes).ok_or(VaultError::KeyCheck)?;
        let manifest = self.check_key(&key)?;
        let OpenedRecords {
            entries,
            mut damaged,
            row_revisions,
        } = self.open_records(&key, manifest.as_ref())?;
        let revisions = match manifest {
            Some(manifest) => {
                for id in manifest.keys().filter(|id| !row_revisions.contains_key(id)) {
                    damaged.push(IntegrityError::Missing { id: id.to_string() });
                }
                manifest
            }
            None => {
                damaged.push(IntegrityError::Manifest);
                row_revisions
            }
        };
        self.unlocked = Some(Unlocked {
            key,
            entries,
            revisions,
            damaged,
        });
        Ok(())
    }

    /// Proves `key` against the key check, then opens the manifest (`None` when it does not
    /// open or decode: every record is then reported against a missing manifest).
    fn check_key(&self, key: &Key) -> Result<Option<BTreeMap<EntryId, u64>>, VaultError> {
        let (check_nonce, check, manifest_nonce, manifest): (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) = self.conn.query_row(
            "SELECT key_check_nonce, key_check, manifest_nonce, manifest FROM vault WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        if crypto::open(
            key,
            key_check_aad(&self.vault_id).as_slice(),
            &check_nonce,
            &check,
        )
        .is_none()
        {
            return Err(VaultError::KeyCheck);
        }
        Ok(crypto::open(
            key,
            manifest_aad(&self.vault_id).as_slice(),
            &manifest_nonce,
            &manifest,
        )
        .and_then(|plain| decode_manifest(&plain)))
    }

    /// Every record row decrypted and checked against the manifest: the accounts that
    /// opened, the records that did not (and why), and each row's revision.
    fn open_records(
        &self,
        key: &Key,
        manifest: Option<&BTreeMap<EntryId, u64>>,
    ) -> Result<OpenedRecords, VaultError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, sort_order, created_at, updated_at, revision, nonce, ciphertext FROM accounts ORDER BY sort_order, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, Vec<u8>>(6)?,
            ))
        })?;
        let mut opened = OpenedRecords::default();
        for row in rows {
            let (raw_id, sort_order, created_at, updated_at, revision, nonce, ciphertext) = row?;
            let Some(id) = EntryId::from_blob(&raw_id) else {
                opened.damaged.push(IntegrityError::Record {
                    id: HEXLOWER.encode(&raw_id),
                });
                continue;
            };
            let revision = revision as u64;
            opened.row_revisions.insert(id, revision);
            let plain = crypto::open(
                key,
                record_aad(&self.vault_id, &id, revision).as_slice(),
                &nonce,
                &ciphertext,
            );
            let Some((account, meta)) = plain.as_deref().and_then(|p| RecordV1::decode(p)) else {
                opened
                    .damaged
                    .push(IntegrityError::Record { id: id.to_string() });
                continue;
            };
            if let Some(expected) = manifest.and_then(|m| m.get(&id))
                && *expected != revision
            {
                opened
                    .damaged
                    .push(IntegrityError::RolledBack { id: id.to_string() });
                continue;
            }
            if manifest.is_some_and(|m| !m.contains_key(&id)) {
                opened
                    .damaged
                    .push(IntegrityError::Unexpected { id: id.to_string() });
                continue;
            }
            opened.entries.push(Entry {
                id,
                account,
                meta,
                sort_order,
                created_at,
                updated_at,
            });
        }
        Ok(opened)
    }

    fn state(&self) -> Result<&Unlocked, VaultError> {
        self.unlocked.as_ref().ok_or(VaultError::Locked)
    }

    /// Every account that opened, in display order.
    pub fn entries(&self) -> Result<&[Entry], VaultError> {
        Ok(&self.state()?.entries)
    }

    /// Records that failed their integrity checks when the vault was unlocked.
    pub fn damaged(&self) -> Result<&[IntegrityError], VaultError> {
        Ok(&self.state()?.damaged)
    }

    pub fn entry(&self, id: EntryId) -> Result<&Entry, VaultError> {
        self.state()?
            .entries
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| VaultError::NotFound(id.to_string()))
    }

    /// Accounts whose issuer, label, tags or notes contain `query` (any case).
    pub fn search(&self, query: &str) -> Result<Vec<&Entry>, VaultError> {
        let needle = query.to_lowercase();
        Ok(self
            .state()?
            .entries
            .iter()
            .filter(|e| {
                let a = &e.account;
                a.issuer
                    .as_deref()
                    .is_some_and(|i| i.to_lowercase().contains(&needle))
                    || a.label.to_lowercase().contains(&needle)
                    || e.meta
                        .tags
                        .iter()
                        .any(|t| t.to_lowercase().contains(&needle))
                    || e.meta.notes.to_lowercase().contains(&needle)
            })
            .collect())
    }

    /// Codes of every time-based account at `unix_time`; HOTP accounts give `None` (their
    /// codes come from [`Vault::next_hotp_code`], which advances the counter).
    pub fn codes_at(
        &self,
        unix_time: u64,
    ) -> Result<Vec<(EntryId, Option<TimedCode>)>, VaultError> {
        Ok(self
            .state()?
            .entries
            .iter()
            .map(|e| {
                (
                    e.id,
                    e.account
                        .params
                        .counter()
                        .is_none()
                        .then(|| e.account.code_at(unix_time)),
                )
            })
            .collect())
    }

    /// Runs `change` in one transaction that also rewrites the manifest; memory is updated only
    /// after the commit succeeded.
    fn write<T>(
        &mut self,
        change: impl FnOnce(
            &Transaction<'_>,
            &Key,
            &[u8; 16],
            &mut BTreeMap<EntryId, u64>,
        ) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let state = self.unlocked.as_ref().ok_or(VaultError::Locked)?;
        let mut revisions = state.revisions.clone();
        let tx = self.conn.transaction()?;
        let result = change(&tx, &state.key, &self.vault_id, &mut revisions)?;
        let (nonce, manifest) = crypto::seal(
            &state.key,
            manifest_aad(&self.vault_id).as_slice(),
            &encode_manifest(&revisions),
        );
        tx.execute(
            "UPDATE vault SET manifest_nonce = ?1, manifest = ?2 WHERE singleton = 1",
            params![&nonce[..], manifest],
        )?;
        tx.commit()?;
        if let Some(state) = self.unlocked.as_mut() {
            state.revisions = revisions;
        }
        Ok(result)
    }

    /// Adds one account; returns its id.
    pub fn add(&mut self, account: Account, meta: EntryMeta) -> Result<EntryId, VaultError> {
        let report = self.add_many(vec![(account, meta)], true)?;
        report
            .added
            .first()
            .copied()
            .ok_or_else(|| VaultError::InvalidAccount("already in the vault".into()))
    }

    /// Adds several accounts in one transaction (all or none). Accounts already present are
    /// skipped and reported unless `allow_duplicates`.
    pub fn add_many(
        &mut self,
        accounts: Vec<(Account, EntryMeta)>,
        allow_duplicates: bool,
    ) -> Result<AddReport, VaultError> {
        let mut report = AddReport::default();
        let mut fresh: Vec<(Account, EntryMeta)> = Vec::new();
        // Held and new accounts in one index (positions past the held ones are new): one
        // lookup per account instead of a scan of both lists (issue 10, finding 10).
        let held = &self.state()?.entries;
        let mut index = AccountIndex::new();
        for (position, entry) in held.iter().enumerate() {
            index.insert(&entry.account, position);
        }
        for (position, (account, meta)) in accounts.into_iter().enumerate() {
            let known = |i: usize| match i.checked_sub(held.len()) {
                None => held.get(i).map(|e| &e.account),
                Some(new) => fresh.get(new).map(|(a, _)| a),
            };
            if !allow_duplicates && index.find(&account, known).is_some() {
                report.duplicates.push(position);
            } else {
                index.insert(&account, held.len() + fresh.len());
                fresh.push((account, meta));
            }
        }
        let first_order = self
            .state()?
            .entries
            .iter()
            .map(|e| e.sort_order)
            .max()
            .unwrap_or(0)
            + 1;
        let time = now();
        let new_entries = self.write(|tx, key, vault_id, revisions| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO accounts (id, sort_order, created_at, updated_at, revision, nonce, ciphertext) VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5)",
            )?;
            let mut new_entries = Vec::new();
            for (offset, (account, meta)) in fresh.into_iter().enumerate() {
                let id = EntryId(random_id());
                let plain = RecordV1::encode(&account, &meta);
                let (nonce, ciphertext) = crypto::seal(key, record_aad(vault_id, &id, 1).as_slice(), &plain);
                let sort_order = first_order + offset as i64;
                stmt.execute(params![&id.0[..], sort_order, time, &nonce[..], ciphertext])?;
                revisions.insert(id, 1);
                new_entries.push(Entry { id, account, meta, sort_order, created_at: time, updated_at: time });
            }
            Ok(new_entries)
        })?;
        report.added = new_entries.iter().map(|e| e.id).collect();
        if let Some(state) = self.unlocked.as_mut() {
            state.entries.extend(new_entries);
        }
        Ok(report)
    }

    /// Replaces an account's data and metadata.
    pub fn update(
        &mut self,
        id: EntryId,
        account: Account,
        meta: EntryMeta,
    ) -> Result<(), VaultError> {
        self.entry(id)?;
        let time = now();
        let (account, meta) = self.write(move |tx, key, vault_id, revisions| {
            let revision = revisions.get(&id).copied().unwrap_or(0) + 1;
            let plain = RecordV1::encode(&account, &meta);
            let (nonce, ciphertext) = crypto::seal(key, record_aad(vault_id, &id, revision).as_slice(), &plain);
            let changed = tx.execute(
                "UPDATE accounts SET revision = ?2, nonce = ?3, ciphertext = ?4, updated_at = ?5 WHERE id = ?1",
                params![&id.0[..], revision as i64, &nonce[..], ciphertext, time],
            )?;
            if changed != 1 {
                return Err(VaultError::NotFound(id.to_string()));
            }
            revisions.insert(id, revision);
            Ok((account, meta))
        })?;
        if let Some(entry) = self
            .unlocked
            .as_mut()
            .and_then(|s| s.entries.iter_mut().find(|e| e.id == id))
        {
            entry.account = account;
            entry.meta = meta;
            entry.updated_at = time;
        }
        Ok(())
    }

    /// The next HOTP code of an account. The advanced counter is committed to disk before the
    /// code is returned, so no crash can ever make a code repeat.
    pub fn next_hotp_code(&mut self, id: EntryId) -> Result<TimedCode, VaultError> {
        let entry = self.entry(id)?.clone();
        let counter = entry
            .account
            .params
            .counter()
            .ok_or_else(|| VaultError::InvalidAccount("not an HOTP account".into()))?;
        let code = entry.account.code_at(0);
        let advanced = Account {
            params: entry.account.params.with_counter(counter.saturating_add(1)),
            ..entry.account
        };
        self.update(id, advanced, entry.meta)?;
        Ok(code)
    }

    pub fn delete(&mut self, id: EntryId) -> Result<(), VaultError> {
        self.entry(id)?;
        self.write(|tx, _, _, revisions| {
            tx.execute("DELETE FROM accounts WHERE id = ?1", params![&id.0[..]])?;
            revisions.remove(&id);
            Ok(())
        })?;
        if let Some(state) = self.unlocked.as_mut() {
            state.entries.retain(|e| e.id != id);
        }
        Ok(())
    }

    /// Puts the given accounts first, in this order; the others keep their order after them.
    pub fn reorder(&mut self, order: &[EntryId]) -> Result<(), VaultError> {
        for id in order {
            self.entry(*id)?;
        }
        let mut ids: Vec<EntryId> = order.to_vec();
        for entry in self.entries()? {
            if !ids.contains(&entry.id) {
                ids.push(entry.id);
            }
        }
        let tx = self.conn.transaction()?;
        for (position, id) in ids.iter().enumerate() {
            tx.execute(
                "UPDATE accounts SET sort_order = ?2 WHERE id = ?1",
                params![&id.0[..], position as i64],
            )?;
        }
        tx.commit()?;
        if let Some(state) = self.unlocked.as_mut() {
            for entry in state.entries.iter_mut() {
                entry.sort_order = ids
                    .iter()
                    .position(|id| *id == entry.id)
                    .unwrap_or(usize::MAX) as i64;
            }
            state.entries.sort_by_key(|e| e.sort_order);
        }
        Ok(())
    }

    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        self.slots_raw()?
            .into_iter()
            .map(|(id, params, _, _, created_at)| {
                let params = serde_json::from_str(&params)
                    .map_err(|_| VaultError::Storage("unreadable key slot".into()))?;
                Ok(SlotInfo {
                    id: HEXLOWER.encode(&id),
                    params,
                    created_at,
                })
            })
            .collect()
    }

    pub fn add_passphrase_slot(
        &mut self,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<String, VaultError> {
        let key = self.state()?.key.clone();
        let tx = self.conn.transaction()?;
        let id = insert_passphrase_slot(&tx, &self.vault_id, &key, passphrase, kdf)?;
        tx.commit()?;
        Ok(id)
    }

    /// Adds a slot unlocked by the platform key store (biometrics, device credential).
    pub fn add_platform_slot(&mut self, provider: &dyn KeyProvider) -> Result<String, VaultError> {
        let key = self.state()?.key.clone();
        let params = SlotParams::Platform {
            provider: provider.provider_id(),
        };
        let params_text =
            serde_json::to_string(&params).map_err(|e| VaultError::Storage(e.to_string()))?;
        let id = random_id();
        // The provider wraps the vault key; an empty seal under it binds the slot to this
        // vault and slot id, so a slot copied from elsewhere fails the check.
        let wrapped = provider.wrap_key(key.as_bytes())?;
        let (nonce, binding) = crypto::seal(
            &key,
            slot_aad(&self.vault_id, &id, &params_text).as_slice(),
            &[],
        );
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO key_slots (id, params, nonce, wrapped_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&id[..], params_text, &nonce[..], [binding.as_slice(), &wrapped].concat(), now()],
        )?;
        tx.commit()?;
        Ok(HEXLOWER.encode(&id))
    }

    /// Adds a recovery-code slot; the code is returned once and never stored.
    pub fn add_recovery_slot(&mut self) -> Result<(String, RecoveryCode), VaultError> {
        let key = self.state()?.key.clone();
        let code = RecoveryCode::generate();
        let mut salt = vec![0u8; 16];
        rand::fill(&mut salt[..]);
        let kek = code.derive(&salt).ok_or(VaultError::KeyCheck)?;
        let params_text = serde_json::to_string(&SlotParams::Recovery { salt })
            .map_err(|e| VaultError::Storage(e.to_string()))?;
        let id = random_id();
        let (nonce, wrapped) = crypto::seal(
            &kek,
            slot_aad(&self.vault_id, &id, &params_text).as_slice(),
            key.as_bytes(),
        );
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO key_slots (id, params, nonce, wrapped_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&id[..], params_text, &nonce[..], wrapped, now()],
        )?;
        tx.commit()?;
        Ok((HEXLOWER.encode(&id), code))
    }

    pub fn remove_slot(&mut self, slot_id: &str) -> Result<(), VaultError> {
        self.state()?;
        let id = hex_decode(slot_id).ok_or_else(|| VaultError::NotFound(slot_id.to_owned()))?;
        let tx = self.conn.transaction()?;
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM key_slots", [], |r| r.get(0))?;
        let exists: i64 = tx.query_row(
            "SELECT COUNT(*) FROM key_slots WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Err(VaultError::NotFound(slot_id.to_owned()));
        }
        if count <= 1 {
            return Err(VaultError::LastSlot);
        }
        tx.execute("DELETE FROM key_slots WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces every passphrase slot by one for `new_passphrase`, in one transaction.
    pub fn change_passphrase(
        &mut self,
        new_passphrase: &str,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        let key = self.state()?.key.clone();
        let old: Vec<Vec<u8>> = self
            .slots_raw()?
            .into_iter()
            .filter(|(_, params, ..)| {
                matches!(
                    serde_json::from_str(params),
                    Ok(SlotParams::Passphrase { .. })
                )
            })
            .map(|(id, ..)| id)
            .collect();
        let tx = self.conn.transaction()?;
        for id in &old {
            tx.execute("DELETE FROM key_slots WHERE id = ?1", params![id])?;
        }
        insert_passphrase_slot(&tx, &self.vault_id, &key, new_passphrase, kdf)?;
        tx.commit()?;
        Ok(())
    }
}

fn insert_passphrase_slot(
    tx: &Transaction<'_>,
    vault_id: &[u8; 16],
    key: &Key,
    passphrase: &str,
    kdf: KdfParams,
) -> Result<String, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let mut salt = vec![0u8; 16];
    rand::fill(&mut salt[..]);
    let kek = kdf
        .derive(passphrase.as_bytes(), &salt)
        .ok_or(VaultError::BadKdfParams)?;
    let params_text = serde_json::to_string(&SlotParams::Passphrase { kdf, salt })
        .map_err(|e| VaultError::Storage(e.to_string()))?;
    let id = random_id();
    let (nonce, wrapped) = crypto::seal(
        &kek,
        slot_aad(vault_id, &id, &params_text).as_slice(),
        key.as_bytes(),
    );
    tx.execute(
        "INSERT INTO key_slots (id, params, nonce, wrapped_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&id[..], params_text, &nonce[..], wrapped, now()],
    )?;
    Ok(HEXLOWER.encode(&id))
}

/// Same issuer, label and secret: the duplicate rule of imports.
pub fn same_account(a: &Account, b: &Account) -> bool {
    // The PIN too: Yandex.Key and mOTP accounts with another PIN make other codes.
    a.issuer == b.issuer && a.label == b.label && a.secret == b.secret && a.pin == b.pin
}

/// Creates the vault's (empty) file readable and writable by its owner only, before SQLite
/// opens it: SQLite would create it with the process's umask (often world-readable), and it
/// gives the `-wal` and `-shm` files the database file's permissions.
fn create_private_file(path: &Path) -> Result<(), VaultError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|e| VaultError::Storage(format!("cannot create {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_are_32_hex_digits_in_either_case_and_nothing_else() {
        let id = EntryId::parse("00112233445566778899AABBCCDDEEFF");
        assert_eq!(
            id.map(|id| id.to_string()).as_deref(),
            Some("00112233445566778899aabbccddeeff")
        );
        for bad in [
            "",
            "0011223344556677",
            "00112233445566778899aabbccddeef",
            "00112233445566778899aabbccddeeff00",
            "+0112233445566778899aabbccddeeff",
            "0g112233445566778899aabbccddeeff",
            "é0112233445566778899aabbccddeef",
        ] {
            assert!(EntryId::parse(bad).is_none(), "{bad}");
        }
    }
}
