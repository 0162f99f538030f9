//! The encrypted vault: unlocking, key slots, integrity, confidentiality at rest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::{Path, PathBuf};

use countersign_app::otp::Algorithm;
use countersign_app::vault::{
    EntryMeta, IntegrityError, KdfParams, SlotParams, SoftwareKeyProvider, Vault, VaultError,
};
use countersign_app::{Account, OtpKind, OtpParameters, Secret};
use rusqlite::{Connection, params};

const PASS: &str = "correct horse battery staple";

fn kdf() -> KdfParams {
    KdfParams::MINIMUM
}

fn account(i: usize) -> Account {
    let secret = Secret::from_bytes((0..20).map(|b| (b * 13 + i * 7 + 1) as u8).collect()).unwrap();
    Account::new(
        Some(format!("Issuer{i}")),
        format!("label-{i}@example.com"),
        secret,
        OtpParameters::default_totp(),
    )
}

fn new_vault(dir: &Path, n: usize) -> (PathBuf, Vault) {
    let path = dir.join("vault.db");
    let mut vault = Vault::create(&path, PASS, kdf()).unwrap();
    for i in 0..n {
        vault
            .add(
                account(i),
                EntryMeta {
                    tags: vec![format!("tag{i}")],
                    notes: format!("note {i}"),
                    icon: None,
                },
            )
            .unwrap();
    }
    (path, vault)
}

fn reopen(path: &Path) -> Vault {
    let mut vault = Vault::open(path).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    vault
}

fn files_of(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn create_add_lock_unlock_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 3);
    let hotp = Account::new(
        None,
        "counter",
        Secret::from_bytes(vec![9; 20]).unwrap(),
        OtpParameters::hotp(Algorithm::Sha256, 8, 5).unwrap(),
    );
    let hotp_id = vault.add(hotp.clone(), EntryMeta::default()).unwrap();
    vault.lock();
    assert!(matches!(vault.entries(), Err(VaultError::Locked)));
    drop(vault);

    let vault = reopen(&path);
    let entries = vault.entries().unwrap();
    assert_eq!(entries.len(), 4);
    for (i, entry) in entries.iter().take(3).enumerate() {
        assert_eq!(entry.account, account(i));
        assert_eq!(entry.meta.tags, vec![format!("tag{i}")]);
        assert_eq!(entry.meta.notes, format!("note {i}"));
    }
    assert_eq!(vault.entry(hotp_id).unwrap().account, hotp);
    assert!(vault.damaged().unwrap().is_empty());
    // Codes for every time-based account; HOTP waits for an explicit request.
    let codes = vault.codes_at(59).unwrap();
    assert_eq!(codes.iter().filter(|(_, c)| c.is_some()).count(), 3);
    assert_eq!(codes[0].1.unwrap().code, account(0).code_at(59).code);
}

#[test]
fn wrong_passphrase_is_typed_and_leaves_the_vault_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path(), 2);
    drop(vault);
    let before = files_of(dir.path());
    let mut locked = Vault::open(&path).unwrap();
    assert!(matches!(
        locked.unlock_with_passphrase("wrong"),
        Err(VaultError::WrongPassphrase)
    ));
    assert!(matches!(
        locked.unlock_with_recovery_code("AAAA-BBBB"),
        Err(VaultError::WrongRecoveryCode)
    ));
    assert!(matches!(
        locked.unlock_with_provider(&SoftwareKeyProvider::new("phone")),
        Err(VaultError::NoSuchSlot)
    ));
    assert!(!locked.is_unlocked());
    drop(locked);
    assert_eq!(files_of(dir.path()), before);
    assert_eq!(reopen(&path).entries().unwrap().len(), 2);
}

#[test]
fn no_secret_or_label_reaches_the_disk_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 20);
    // A deleted and an edited account must not linger either.
    let ids: Vec<_> = vault.entries().unwrap().iter().map(|e| e.id).collect();
    vault.delete(ids[0]).unwrap();
    let mut edited = account(1);
    edited.label = "renamed-label@example.com".into();
    vault
        .update(
            ids[1],
            edited,
            EntryMeta {
                tags: vec!["secret-tag".into()],
                notes: "private note".into(),
                icon: Some("bank-icon".into()),
            },
        )
        .unwrap();
    vault.lock();
    // Scanned twice: while the vault is open (database, WAL and shared memory as they are),
    // and after closing (SQLite checkpoints the WAL into the database).
    let open_files = files_of(dir.path());
    assert!(
        open_files
            .iter()
            .any(|(p, _)| p.to_string_lossy().ends_with("-wal")),
        "the WAL is part of the scan"
    );
    drop(vault);
    assert!(path.exists());
    let files: Vec<_> = open_files.into_iter().chain(files_of(dir.path())).collect();
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for i in 0..20 {
        let a = account(i);
        needles.push(a.label.clone().into_bytes());
        needles.push(a.issuer.clone().unwrap().into_bytes());
        needles.push(a.secret.to_base32().into_bytes());
        needles.push(a.secret.expose().to_vec());
        needles.push(format!("note {i}").into_bytes());
    }
    for extra in [
        "renamed-label",
        "secret-tag",
        "private note",
        "bank-icon",
        "label-",
        "Issuer",
    ] {
        needles.push(extra.as_bytes().to_vec());
    }
    for (file, bytes) in &files {
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} contains {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}

fn corrupt(path: &Path, sql: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn flip_bit(path: &Path, column: &str, id: &[u8]) {
    let conn = Connection::open(path).unwrap();
    let mut value: Vec<u8> = conn
        .query_row(
            &format!("SELECT {column} FROM accounts WHERE id = ?1"),
            params![id],
            |r| r.get(0),
        )
        .unwrap();
    let at = value.len() / 2;
    value[at] ^= 0x10;
    conn.execute(
        &format!("UPDATE accounts SET {column} = ?2 WHERE id = ?1"),
        params![id, value],
    )
    .unwrap();
}

fn raw_ids(path: &Path) -> Vec<Vec<u8>> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id FROM accounts ORDER BY sort_order")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

#[test]
fn a_flipped_bit_names_the_record_and_the_rest_still_open() {
    for column in ["ciphertext", "nonce", "revision", "id"] {
        let dir = tempfile::tempdir().unwrap();
        let (path, vault) = new_vault(dir.path(), 5);
        drop(vault);
        let ids = raw_ids(&path);
        if column == "revision" {
            corrupt(
                &path,
                &format!(
                    "UPDATE accounts SET revision = revision + 1 WHERE id = x'{}'",
                    hex(&ids[2])
                ),
            );
        } else {
            flip_bit(&path, column, &ids[2]);
        }
        let vault = reopen(&path);
        let damaged = vault.damaged().unwrap();
        let names: Vec<_> = damaged.iter().filter_map(|d| d.record_id()).collect();
        if column == "id" {
            // The altered id fails authentication, and the true id is missing.
            assert!(
                damaged
                    .iter()
                    .any(|d| matches!(d, IntegrityError::Record { .. })),
                "{column}: {damaged:?}"
            );
            assert!(
                damaged.contains(&IntegrityError::Missing { id: hex(&ids[2]) }),
                "{column}: {damaged:?}"
            );
        } else {
            assert_eq!(names, vec![hex(&ids[2]).as_str()], "{column}: {damaged:?}");
        }
        assert_eq!(vault.entries().unwrap().len(), 4, "{column}");
    }
}

#[test]
fn swapped_rolled_back_copied_and_deleted_rows_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 4);
    let ids: Vec<_> = vault.entries().unwrap().iter().map(|e| e.id).collect();
    // Keep revision 1 of record 3, then edit it: putting the old row back is a rollback.
    let old: (i64, Vec<u8>, Vec<u8>) = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT revision, nonce, ciphertext FROM accounts WHERE id = ?1",
            params![raw_ids(&path)[3]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    vault
        .update(ids[3], account(33), EntryMeta::default())
        .unwrap();
    drop(vault);
    let raw = raw_ids(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE accounts SET revision = ?2, nonce = ?3, ciphertext = ?4 WHERE id = ?1",
        params![raw[3], old.0, old.1, old.2],
    )
    .unwrap();
    // Swap the sealed contents of records 0 and 1.
    let sealed = |id: &Vec<u8>| -> (Vec<u8>, Vec<u8>) {
        conn.query_row(
            "SELECT nonce, ciphertext FROM accounts WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (first, second) = (sealed(&raw[0]), sealed(&raw[1]));
    for (id, (nonce, ciphertext)) in [(&raw[0], second), (&raw[1], first)] {
        conn.execute(
            "UPDATE accounts SET nonce = ?2, ciphertext = ?3 WHERE id = ?1",
            params![id, nonce, ciphertext],
        )
        .unwrap();
    }
    // Delete record 2.
    conn.execute("DELETE FROM accounts WHERE id = ?1", params![raw[2]])
        .unwrap();
    drop(conn);

    let vault = reopen(&path);
    let damaged = vault.damaged().unwrap();
    assert!(
        damaged.contains(&IntegrityError::RolledBack { id: hex(&raw[3]) }),
        "{damaged:?}"
    );
    assert!(
        damaged.contains(&IntegrityError::Missing { id: hex(&raw[2]) }),
        "{damaged:?}"
    );
    assert!(
        damaged.contains(&IntegrityError::Record { id: hex(&raw[0]) }),
        "{damaged:?}"
    );
    assert!(
        damaged.contains(&IntegrityError::Record { id: hex(&raw[1]) }),
        "{damaged:?}"
    );
    assert_eq!(damaged.len(), 4, "{damaged:?}");

    // A row copied from another vault is refused too.
    let other_dir = tempfile::tempdir().unwrap();
    let (other_path, other) = new_vault(other_dir.path(), 1);
    drop(other);
    let row: (Vec<u8>, Vec<u8>, Vec<u8>) = Connection::open(&other_path)
        .unwrap()
        .query_row("SELECT id, nonce, ciphertext FROM accounts", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    drop(vault);
    Connection::open(&path).unwrap().execute(
        "INSERT INTO accounts (id, sort_order, created_at, updated_at, revision, nonce, ciphertext) VALUES (?1, 99, 0, 0, 1, ?2, ?3)",
        params![row.0, row.1, row.2],
    ).unwrap();
    let vault = reopen(&path);
    assert!(
        vault
            .damaged()
            .unwrap()
            .contains(&IntegrityError::Record { id: hex(&row.0) })
    );
}

#[test]
fn a_damaged_manifest_is_reported_and_every_record_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path(), 3);
    drop(vault);
    corrupt(
        &path,
        "UPDATE vault SET manifest = zeroblob(length(manifest))",
    );
    let vault = reopen(&path);
    assert_eq!(vault.damaged().unwrap(), &[IntegrityError::Manifest]);
    assert_eq!(vault.entries().unwrap().len(), 3);
}

#[test]
fn key_slots_recovery_platform_and_passphrase_change() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 2);
    let provider = SoftwareKeyProvider::new("android-keystore:countersign-vault");
    vault.add_platform_slot(&provider).unwrap();
    let (recovery_slot, code) = vault.add_recovery_slot().unwrap();
    let display = code.display().to_string();
    assert_eq!(display.len(), 39, "8 groups of 4 with dashes: {display}");
    vault.change_passphrase("a new passphrase", kdf()).unwrap();
    let kinds: Vec<&str> = vault
        .slots()
        .unwrap()
        .iter()
        .map(|s| s.params.kind())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "passphrase").count(), 1);
    assert_eq!(kinds.len(), 3);
    drop(vault);

    let mut locked = Vault::open(&path).unwrap();
    assert!(matches!(
        locked.unlock_with_passphrase(PASS),
        Err(VaultError::WrongPassphrase)
    ));
    locked.unlock_with_passphrase("a new passphrase").unwrap();
    locked.lock();
    locked.unlock_with_provider(&provider).unwrap();
    locked.lock();
    // Another device's key with the same name cannot unlock.
    assert!(
        locked
            .unlock_with_provider(&SoftwareKeyProvider::new(
                "android-keystore:countersign-vault"
            ))
            .is_err()
    );
    locked
        .unlock_with_recovery_code(&display.to_lowercase().replace('-', " "))
        .unwrap();
    assert_eq!(locked.entries().unwrap().len(), 2);

    // Slots go, but never the last one.
    locked.remove_slot(&recovery_slot).unwrap();
    let remaining: Vec<_> = locked.slots().unwrap();
    for slot in &remaining[..remaining.len() - 1] {
        locked.remove_slot(&slot.id).unwrap();
    }
    assert!(matches!(
        locked.remove_slot(&remaining.last().unwrap().id),
        Err(VaultError::LastSlot)
    ));
    assert!(matches!(
        locked.slots().unwrap()[0].params,
        SlotParams::Passphrase { .. } | SlotParams::Platform { .. }
    ));
}

#[test]
fn hotp_counter_is_committed_before_the_code_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 0);
    let hotp = Account::new(
        Some("VPN".into()),
        "bob",
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap(),
        OtpParameters::hotp(Algorithm::Sha1, 6, 0).unwrap(),
    );
    let id = vault.add(hotp, EntryMeta::default()).unwrap();
    // RFC 4226 appendix D: counters 0, 1, 2.
    for expected in ["755224", "287082", "359152"] {
        assert_eq!(vault.next_hotp_code(id).unwrap().code.as_str(), expected);
    }
    drop(vault);
    let vault = reopen(&path);
    assert_eq!(
        vault.entry(id).unwrap().account.params.kind(),
        OtpKind::Hotp { counter: 3 }
    );
}

#[test]
fn edit_delete_reorder_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 4);
    let ids: Vec<_> = vault.entries().unwrap().iter().map(|e| e.id).collect();
    vault.reorder(&[ids[3], ids[1]]).unwrap();
    vault.delete(ids[0]).unwrap();
    let mut edited = account(2);
    edited.issuer = Some("GitHub".into());
    vault
        .update(
            ids[2],
            edited,
            EntryMeta {
                tags: vec!["work".into()],
                notes: String::new(),
                icon: None,
            },
        )
        .unwrap();
    drop(vault);
    let vault = reopen(&path);
    let order: Vec<_> = vault.entries().unwrap().iter().map(|e| e.id).collect();
    assert_eq!(order, vec![ids[3], ids[1], ids[2]]);
    let found: Vec<_> = vault
        .search("github")
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(found, vec![ids[2]]);
    assert_eq!(vault.search("WORK").unwrap().len(), 1);
    assert_eq!(vault.search("label-1@").unwrap().len(), 1);
    assert_eq!(vault.search("note 3").unwrap().len(), 1);
    assert!(vault.search("nothing like this").unwrap().is_empty());
    assert!(vault.damaged().unwrap().is_empty());
}

#[test]
fn files_that_are_not_vaults_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database at all, just some text that is long enough",
    )
    .unwrap();
    assert!(matches!(Vault::open(&junk), Err(VaultError::NotAVault)));
    assert!(matches!(
        Vault::open(&dir.path().join("missing.db")),
        Err(VaultError::Missing)
    ));
    assert!(matches!(
        Vault::open(dir.path()),
        Err(VaultError::NotAVault)
    ));
    let empty = dir.path().join("empty.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    assert!(matches!(Vault::open(&empty), Err(VaultError::NotAVault)));
    assert!(matches!(
        Vault::create(&dir.path().join("v.db"), "", kdf()),
        Err(VaultError::EmptyPassphrase)
    ));
    let weak = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    assert!(matches!(
        Vault::create(&dir.path().join("v.db"), PASS, weak),
        Err(VaultError::BadKdfParams)
    ));
}

#[test]
fn device_registrations_are_sealed_per_registration_and_survive_reopening() {
    use countersign_app::vault::{DeviceKey, DeviceRecord};
    use zeroize::Zeroizing;
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 1);
    let bank = DeviceRecord {
        registration_id: "a1".into(),
        server_url: "https://auth.bank.example".into(),
        device_id: 7,
        authy_id: 42,
        server_public_key: vec![1, 2, 3],
        key: DeviceKey::Software(Zeroizing::new(vec![9; 32])),
    };
    let shop = DeviceRecord {
        registration_id: "b2".into(),
        server_url: "https://shop.example".into(),
        device_id: 8,
        authy_id: 43,
        server_public_key: vec![4, 5],
        key: DeviceKey::Platform {
            alias: "app.countersign.device-key.b2".into(),
        },
    };
    vault.save_device(&bank).unwrap();
    vault.save_device(&shop).unwrap();
    let replaced = DeviceRecord {
        device_id: 70,
        ..bank.clone()
    };
    vault.save_device(&replaced).unwrap();
    assert_eq!(
        vault.devices().unwrap(),
        vec![replaced.clone(), shop.clone()]
    );
    assert!(
        !format!("{replaced:?}").contains("9, 9"),
        "Debug hides the key"
    );
    drop(vault);

    let mut vault = Vault::open(&path).unwrap();
    assert!(matches!(vault.devices(), Err(VaultError::Locked)));
    vault.unlock_with_passphrase(PASS).unwrap();
    assert_eq!(vault.devices().unwrap(), vec![replaced, shop.clone()]);
    // Nothing in the file shows the key in the clear.
    drop(vault);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(32).any(|w| w == [9; 32]));

    // Swapping two rows' server URLs, or their registration ids, is detected: each row is
    // bound to both.
    let swaps = [
        "UPDATE devices SET server_url = 'https://shop.example' WHERE registration_id = 'a1';
         UPDATE devices SET server_url = 'https://auth.bank.example' WHERE registration_id = 'b2';",
        "UPDATE devices SET registration_id = 'x' WHERE registration_id = 'a1';
         UPDATE devices SET registration_id = 'a1' WHERE registration_id = 'b2';
         UPDATE devices SET registration_id = 'b2' WHERE registration_id = 'x';",
    ];
    for swap in swaps {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(swap).unwrap();
        drop(conn);
        let mut vault = Vault::open(&path).unwrap();
        vault.unlock_with_passphrase(PASS).unwrap();
        assert!(
            matches!(vault.devices(), Err(VaultError::Storage(m)) if m.contains("damaged")),
            "{swap}"
        );
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM devices").unwrap();
        drop(conn);
        vault.save_device(&bank).unwrap();
        vault.save_device(&shop).unwrap();
    }
    let mut vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    assert!(vault.remove_device("b2").unwrap());
    assert!(vault.remove_device("a1").unwrap());
    assert!(!vault.remove_device("a1").unwrap());
    assert_eq!(vault.devices().unwrap(), vec![]);
}

#[test]
fn two_registrations_with_one_server_are_both_kept() {
    // Issue 10, finding 8: the second registration with a server replaced the first, whose
    // key was lost while the server still listed that device.
    use countersign_app::vault::{DeviceKey, DeviceRecord, new_registration_id};
    use zeroize::Zeroizing;
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 0);
    let registration = |device_id: i64, authy_id: i64, key: u8| DeviceRecord {
        registration_id: new_registration_id(),
        server_url: "https://auth.bank.example".into(),
        device_id,
        authy_id,
        server_public_key: vec![1, 2, 3],
        key: DeviceKey::Software(Zeroizing::new(vec![key; 32])),
    };
    let personal = registration(7, 42, 1);
    let business = registration(8, 43, 2);
    let again = registration(9, 42, 3);
    for record in [&personal, &business, &again] {
        vault.save_device(record).unwrap();
    }
    drop(vault);
    let mut vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    assert_eq!(vault.devices().unwrap(), vec![personal, business, again]);
}

#[test]
fn a_schema_1_vault_is_migrated_on_open_and_keeps_every_account() {
    use countersign_app::vault::DeviceRecord;
    let dir = tempfile::tempdir().unwrap();
    let (path, vault) = new_vault(dir.path(), 3);
    let before: Vec<Account> = vault
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.account.clone())
        .collect();
    drop(vault);
    // Schema 1 is schema 3 without the devices table: make the file exactly that.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE devices; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);

    let mut vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    let after: Vec<Account> = vault
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.account.clone())
        .collect();
    assert_eq!(after, before);
    assert!(vault.damaged().unwrap().is_empty());
    for device_id in [1, 2] {
        vault
            .save_device(&DeviceRecord {
                registration_id: countersign_app::vault::new_registration_id(),
                server_url: "https://bank.example".into(),
                device_id,
                authy_id: 2,
                server_public_key: vec![3],
                key: countersign_app::vault::DeviceKey::Platform {
                    alias: format!("key-{device_id}"),
                },
            })
            .unwrap();
    }
    assert_eq!(vault.devices().unwrap().len(), 2);
    let version: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
}

/// Issue 10, finding 6: a hostile vault file may hold any number of passphrase slots, each
/// asking for a costly derivation; an unlock derives for at most `MAX_SLOTS_TRIED` of them.
#[test]
fn a_vault_file_with_hundreds_of_slots_is_not_derived_for_each() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut vault) = new_vault(dir.path(), 1);
    vault.lock();
    // The cost of one derivation, on this machine now.
    let started = std::time::Instant::now();
    assert!(vault.unlock_with_passphrase("not the passphrase").is_err());
    let one = started.elapsed();
    drop(vault);
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        for i in 0..200 {
            // Copies under other ids: their AAD differs, so none opens; listed first.
            db.execute(
                "INSERT INTO key_slots (id, params, nonce, wrapped_key, created_at) SELECT randomblob(length(id)), params, nonce, wrapped_key, created_at - ?1 FROM key_slots WHERE params LIKE '%passphrase%' ORDER BY created_at DESC LIMIT 1",
                rusqlite::params![1000 + i],
            )
            .unwrap();
        }
    }
    let mut vault = Vault::open(&path).unwrap();
    let started = std::time::Instant::now();
    let result = vault.unlock_with_passphrase(PASS);
    let took = started.elapsed();
    assert!(
        matches!(result, Err(VaultError::WrongPassphrase)),
        "{result:?}"
    );
    // 201 slots tried would cost about 200 derivations; the cap allows 8.
    assert!(
        took < one * 40,
        "{took:?} (one derivation: {one:?}; at most {} allowed)",
        countersign_app::vault::MAX_SLOTS_TRIED
    );
}
