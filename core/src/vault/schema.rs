//! The SQLite schema and its migrations. `PRAGMA user_version` holds the schema version.

use rusqlite::Connection;

use super::error::VaultError;

pub const SCHEMA_VERSION: i64 = 3;

/// Each entry migrates from the version before it to its index + 1.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE vault (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        vault_id BLOB NOT NULL,
        format_version INTEGER NOT NULL,
        key_check_nonce BLOB NOT NULL,
        key_check BLOB NOT NULL,
        manifest_nonce BLOB NOT NULL,
        manifest BLOB NOT NULL
    );
    CREATE TABLE key_slots (
        id BLOB PRIMARY KEY,
        params TEXT NOT NULL,
        nonce BLOB NOT NULL,
        wrapped_key BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE accounts (
        id BLOB PRIMARY KEY,
        sort_order INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL
    );",
    // 1 → 2: registered devices (docs/vault.md, Devices).
    "CREATE TABLE devices (
        server_url TEXT PRIMARY KEY,
        updated_at INTEGER NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL
    );",
    // 2 → 3: registrations keyed by a registration id, so several with one server coexist
    // (issue 10, finding 8). Existing rows keep their sealed bytes ("seal 1": bound to the
    // server URL) and get a random id; they are sealed the current way when next saved.
    "CREATE TABLE devices_by_registration (
        registration_id TEXT PRIMARY KEY,
        server_url TEXT NOT NULL,
        seal INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL
    );
    INSERT INTO devices_by_registration
        (registration_id, server_url, seal, updated_at, nonce, ciphertext)
        SELECT lower(hex(randomblob(16))), server_url, 1, updated_at, nonce, ciphertext
        FROM devices ORDER BY server_url;
    DROP TABLE devices;
    ALTER TABLE devices_by_registration RENAME TO devices;",
];

pub fn version(conn: &Connection) -> Result<i64, VaultError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), VaultError> {
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(VaultError::TooNew(current));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
