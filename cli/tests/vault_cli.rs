//! `countersign vault …` end to end, as a script would drive it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const RFC_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn vault_cmd(vault: &Path, passphrase: &str) -> Command {
    let mut cmd = Command::cargo_bin("countersign").unwrap();
    cmd.env("COUNTERSIGN_VAULT", vault)
        .env("COUNTERSIGN_PASSPHRASE", passphrase)
        .env_remove("COUNTERSIGN_FILE_PASSPHRASE")
        .arg("vault");
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(cmd: &mut Command) -> Value {
    serde_json::from_str(&ok(cmd)).unwrap()
}

fn init(vault: &Path, passphrase: &str) {
    ok(vault_cmd(vault, passphrase).args([
        "init",
        "--kdf-memory-kib",
        "19456",
        "--kdf-iterations",
        "2",
    ]));
}

#[test]
fn init_add_list_code_remove() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.vault");
    init(&vault, "pass one");
    let totp = format!("otpauth://totp/RFC:alice?secret={RFC_SEED_B32}&issuer=RFC&digits=8");
    let hotp = format!("otpauth://hotp/VPN:bob?secret={RFC_SEED_B32}&counter=0");
    let added = json(
        vault_cmd(&vault, "pass one").args(["--json", "add", &totp, &hotp, "--tags", "work,rfc"]),
    );
    assert_eq!(added["added"].as_array().unwrap().len(), 2);
    // Adding the same account again is reported, not duplicated.
    let again = json(vault_cmd(&vault, "pass one").args(["--json", "add", &totp]));
    assert_eq!(again["duplicates"], serde_json::json!([0]));

    let list = json(vault_cmd(&vault, "pass one").args(["--json", "list"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["tags"], serde_json::json!(["work", "rfc"]));
    assert!(
        !list.to_string().contains(RFC_SEED_B32),
        "secrets only with --show-secret"
    );

    // RFC 6238 at T=59, and RFC 4226's first HOTP codes, the counter advancing each time.
    assert_eq!(
        ok(vault_cmd(&vault, "pass one").args(["code", "alice", "--at", "59"])),
        "94287082  RFC (alice)\n"
    );
    assert_eq!(
        ok(vault_cmd(&vault, "pass one").args(["code", "VPN"])),
        "755224  VPN (bob)\n"
    );
    assert_eq!(
        ok(vault_cmd(&vault, "pass one").args(["code", "VPN"])),
        "287082  VPN (bob)\n"
    );

    let id = list[1]["id"].as_str().unwrap();
    ok(vault_cmd(&vault, "pass one").args(["remove", id]));
    assert_eq!(
        json(vault_cmd(&vault, "pass one").args(["--json", "list"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A wrong passphrase: exit 2, one clear line.
    let out = vault_cmd(&vault, "wrong").args(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "countersign: wrong passphrase"
    );
}

#[test]
fn export_and_import_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.vault");
    init(&source, "source");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/import");
    let imported = json(
        vault_cmd(&source, "source")
            .env("COUNTERSIGN_FILE_PASSPHRASE", "2fas-password")
            .args(["--json", "import", "--format", "2fas"])
            .arg(format!("{fixtures}/2fas-encrypted.2fas")),
    );
    assert_eq!(imported["added"], 4);
    assert_eq!(imported["duplicates_in_file"], 1);
    assert_eq!(imported["failures"].as_array().unwrap().len(), 2);

    let listing = |vault: &Path, pass: &str| {
        let list = json(vault_cmd(vault, pass).args(["--json", "list", "--show-secret"]));
        let mut accounts: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["account"].clone())
            .collect();
        accounts.sort_by_key(|a| a["label"].as_str().unwrap().to_owned());
        accounts
    };
    let original = listing(&source, "source");

    for (format, extra) in [
        ("backup", None),
        ("aegis", Some("--encrypt")),
        ("aegis", None),
        ("otpauth", None),
    ] {
        let file = dir
            .path()
            .join(format!("export-{format}-{}", extra.is_some()));
        let mut export = vault_cmd(&source, "source");
        export
            .env("COUNTERSIGN_FILE_PASSPHRASE", "file pass")
            .args(["export", "--format", format, "--out"])
            .arg(&file);
        if let Some(flag) = extra {
            export.arg(flag);
        }
        ok(&mut export);
        let target = dir
            .path()
            .join(format!("target-{format}-{}.vault", extra.is_some()));
        init(&target, "target");
        let import_format = match format {
            "backup" => "countersign",
            other => other,
        };
        ok(vault_cmd(&target, "target")
            .env("COUNTERSIGN_FILE_PASSPHRASE", "file pass")
            .args(["import", "--format", import_format])
            .arg(&file));
        assert_eq!(listing(&target, "target"), original, "{format} {extra:?}");
    }
}

#[test]
fn passphrase_change_and_recovery_slot() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v.vault");
    init(&vault, "old");
    let out = ok(vault_cmd(&vault, "old").args(["slots", "add-recovery"]));
    assert!(out.contains("shown only once"));
    ok(vault_cmd(&vault, "old")
        .env("COUNTERSIGN_NEW_PASSPHRASE", "new")
        .args(["passwd"]));
    assert!(
        !vault_cmd(&vault, "old")
            .args(["unlock"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let slots = json(vault_cmd(&vault, "new").args(["--json", "slots", "list"]));
    let kinds: Vec<&str> = slots
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"recovery") && kinds.contains(&"passphrase"));
}
