//! A full disk and a read-only file system: clear errors, no corruption. Uses a real small
//! tmpfs mount (the tests run as root on the development machines and in CI).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

use countersign_app::vault::{EntryMeta, KdfParams, Vault, VaultError};
use countersign_app::{Account, OtpParameters, Secret};

const PASS: &str = "disk test passphrase";

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(size: &str) -> Mount {
        let dir = tempfile::tempdir().unwrap().keep();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mounting a tmpfs needs root (as on the development machines and CI)"
        );
        Mount(dir)
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn account(n: usize) -> Account {
    let secret = Secret::from_bytes((0..32).map(|b| (b * 7 + n) as u8).collect()).unwrap();
    Account::new(
        Some(format!("Disk {n}")),
        format!("user{n}@example.com").repeat(8),
        secret,
        OtpParameters::default_totp(),
    )
}

fn unlock(path: &Path) -> Vault {
    let mut vault = Vault::open(path).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    vault
}

#[test]
fn full_disk_and_read_only_file_system() {
    let mount = Mount::tmpfs("640k");
    let path = mount.0.join("vault.db");
    let mut vault = Vault::create(&path, PASS, KdfParams::MINIMUM).unwrap();
    let mut added = 0;
    let error = loop {
        match vault.add(
            account(added),
            EntryMeta {
                tags: vec![],
                notes: "n".repeat(200),
                icon: None,
            },
        ) {
            Ok(_) => added += 1,
            Err(e) => break e,
        }
        assert!(added < 100_000, "the disk never filled");
    };
    assert!(matches!(error, VaultError::DiskFull), "{error:?}");
    assert!(added > 10, "only {added} accounts fitted");
    // The failed write left nothing half-done, in memory or on disk.
    assert_eq!(vault.entries().unwrap().len(), added);
    drop(vault);
    let vault = unlock(&path);
    assert!(vault.damaged().unwrap().is_empty());
    assert_eq!(vault.entries().unwrap().len(), added);
    for (n, entry) in vault.entries().unwrap().iter().enumerate() {
        assert_eq!(entry.account, account(n));
    }
    drop(vault);

    // Read-only: the vault can be read, writes fail clearly, nothing changes.
    mount.remount("ro");
    let mut vault = unlock(&path);
    assert_eq!(vault.entries().unwrap().len(), added);
    let error = vault
        .add(account(999_999), EntryMeta::default())
        .unwrap_err();
    assert!(matches!(error, VaultError::ReadOnly), "{error:?}");
    assert_eq!(vault.entries().unwrap().len(), added);
    drop(vault);
    mount.remount("rw");
    let vault = unlock(&path);
    assert_eq!(vault.entries().unwrap().len(), added);
    assert!(vault.damaged().unwrap().is_empty());
}
