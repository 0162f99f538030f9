//! The command as a new user types it: options anywhere on the line, the vault in the data
//! directory without being told where, a missing vault that says how to create one,
//! imports that say which format they found and what happened to each entry, and a
//! progress line on request.
//!
//! Every command here runs with HOME and XDG_DATA_HOME inside a temporary folder, so no
//! test touches the real user's data directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/import");

/// A user's world: a home, a data directory and a working folder, all temporary.
struct User {
    _dir: tempfile::TempDir,
    home: PathBuf,
    data: PathBuf,
    cwd: PathBuf,
    passphrase_file: PathBuf,
}

impl User {
    fn new() -> User {
        let dir = tempfile::tempdir().unwrap();
        let (home, data, cwd) = (
            dir.path().join("home"),
            dir.path().join("data"),
            dir.path().join("work"),
        );
        for folder in [&home, &cwd] {
            std::fs::create_dir_all(folder).unwrap();
        }
        let passphrase_file = dir.path().join("passphrase.txt");
        std::fs::write(&passphrase_file, "user passphrase\n").unwrap();
        User {
            _dir: dir,
            home,
            data,
            cwd,
            passphrase_file,
        }
    }

    /// `countersign` with nothing from the test runner's environment that could choose a
    /// vault or a passphrase.
    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("countersign").unwrap();
        for var in [
            "COUNTERSIGN_VAULT",
            "COUNTERSIGN_PASSPHRASE",
            "COUNTERSIGN_FILE_PASSPHRASE",
            "COUNTERSIGN_NEW_PASSPHRASE",
            "COUNTERSIGN_SECRET",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_DATA_HOME", &self.data)
            .current_dir(&self.cwd);
        cmd
    }

    /// The default vault path of this user (Linux rules).
    fn default_vault(&self) -> PathBuf {
        self.data.join("countersign").join("countersign.vault")
    }

    /// A vault at the default location with a quick KDF, the passphrase from the file.
    fn init_default(&self) {
        ok(self
            .cmd()
            .args(["vault", "init"])
            .args(quick_kdf())
            .arg("--passphrase-file")
            .arg(&self.passphrase_file));
    }
}

fn quick_kdf() -> [&'static str; 4] {
    ["--kdf-memory-kib", "19456", "--kdf-iterations", "2"]
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
    let text = ok(cmd);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Exit 2 with one line on stderr; the line.
fn refused(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn global_options_work_after_every_subcommand() {
    let user = User::new();
    let vault = user.cwd.join("mine.vault");
    let pass = user.passphrase_file.to_str().unwrap();
    let vault_arg = vault.to_str().unwrap();
    // After `vault`, and after `init`.
    ok(user
        .cmd()
        .args([
            "vault",
            "--vault",
            vault_arg,
            "init",
            "--passphrase-file",
            pass,
        ])
        .args(quick_kdf()));
    assert!(vault.is_file());
    let uri = "otpauth://totp/RFC:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=RFC";
    let added = json(user.cmd().args([
        "vault",
        "add",
        uri,
        "--json",
        "--vault",
        vault_arg,
        "--passphrase-file",
        pass,
    ]));
    assert_eq!(added["added"].as_array().unwrap().len(), 1);
    let list = json(user.cmd().args([
        "vault",
        "list",
        "--vault",
        vault_arg,
        "--passphrase-file",
        pass,
        "--json",
    ]));
    assert_eq!(list[0]["account"]["label"], "alice");
    let code = json(user.cmd().args([
        "vault",
        "code",
        "alice",
        "--at",
        "59",
        "--json",
        "--vault",
        vault_arg,
        "--passphrase-file",
        pass,
    ]));
    assert_eq!(
        code[0]["code"]["code"], "287082",
        "RFC 6238, SHA-1, 6 digits, T=59"
    );
    // The other subcommands: device, approvals, code, uri, txotp.
    let devices = json(user.cmd().args([
        "device",
        "list",
        "--json",
        "--vault",
        vault_arg,
        "--passphrase-file",
        pass,
    ]));
    assert_eq!(devices, serde_json::json!([]));
    // The vault opened (options understood); it has no registration to ask with yet.
    let line = refused(user.cmd().args([
        "approvals",
        "list",
        "--vault",
        vault_arg,
        "--json",
        "--passphrase-file",
        pass,
    ]));
    assert!(line.contains("no registered device"), "{line}");
    let code = json(user.cmd().args([
        "code",
        "--secret",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--at",
        "59",
        "--json",
    ]));
    assert_eq!(code["code"], "287082");
    let encoded = json(
        user.cmd()
            .args(["uri", "migration", "encode", uri, "--json"]),
    );
    assert!(
        encoded.to_string().contains("otpauth-migration://"),
        "{encoded}"
    );
    let shown = json(user.cmd().args([
        "txotp",
        "show",
        "--tx",
        "txotp://totp?message=Pay&details[Amount]=5",
        "--json",
    ]));
    assert_eq!(shown["message"], "Pay");
}

#[test]
fn the_vault_lives_in_the_data_directory_by_default() {
    let user = User::new();
    user.init_default();
    let vault = user.default_vault();
    assert!(vault.is_file(), "{}", vault.display());
    #[cfg(unix)]
    {
        assert_eq!(
            mode(vault.parent().unwrap()),
            0o700,
            "the folder is private"
        );
        assert_eq!(mode(&vault) & 0o077, 0, "the vault is private");
    }
    assert!(
        !user.cwd.join("countersign.vault").exists(),
        "not in the current folder"
    );
    // Found again from another folder, with the passphrase option after the subcommand.
    let unlocked = json(
        user.cmd()
            .current_dir(&user.home)
            .args(["vault", "unlock", "--json", "--passphrase-file"])
            .arg(&user.passphrase_file),
    );
    assert_eq!(unlocked["accounts"], 0);
    // COUNTERSIGN_VAULT still chooses another vault.
    let elsewhere = user.cwd.join("elsewhere.vault");
    ok(user
        .cmd()
        .env("COUNTERSIGN_VAULT", &elsewhere)
        .env("COUNTERSIGN_PASSPHRASE", "other")
        .args(["vault", "init"])
        .args(quick_kdf()));
    assert!(elsewhere.is_file());
}

#[test]
fn without_xdg_data_home_the_vault_is_under_local_share() {
    let user = User::new();
    ok(user
        .cmd()
        .env_remove("XDG_DATA_HOME")
        .env("COUNTERSIGN_PASSPHRASE", "p")
        .args(["vault", "init"])
        .args(quick_kdf()));
    assert!(
        user.home
            .join(".local/share/countersign/countersign.vault")
            .is_file()
    );
}

#[test]
fn a_missing_vault_says_how_to_create_one() {
    let user = User::new();
    let line = refused(
        user.cmd()
            .args(["vault", "list"])
            .env("COUNTERSIGN_PASSPHRASE", "p"),
    );
    assert!(line.contains("no vault at"), "{line}");
    assert!(
        line.contains(user.default_vault().to_str().unwrap()),
        "{line}"
    );
    assert!(line.contains("`countersign vault init`"), "{line}");
    // An explicit path is repeated in the command to run.
    let named = user.cwd.join("named.vault");
    let line = refused(
        user.cmd()
            .args(["device", "list", "--vault"])
            .arg(&named)
            .env("COUNTERSIGN_PASSPHRASE", "p"),
    );
    assert!(
        line.contains(&format!(
            "countersign vault --vault {} init",
            named.display()
        )),
        "{line}"
    );
    // A vault an earlier release left in the current folder is pointed at.
    std::fs::write(user.cwd.join("countersign.vault"), b"old").unwrap();
    let line = refused(
        user.cmd()
            .args(["vault", "list"])
            .env("COUNTERSIGN_PASSPHRASE", "p"),
    );
    assert!(line.contains("--vault countersign.vault"), "{line}");
    // A file that is there but is no vault is a different message.
    let junk = user.cwd.join("junk.vault");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let line = refused(
        user.cmd()
            .args(["vault", "list", "--vault"])
            .arg(&junk)
            .env("COUNTERSIGN_PASSPHRASE", "p"),
    );
    assert!(line.contains("not a Countersign vault"), "{line}");
}

/// The fixtures `--format auto` must recognise: file, format it is, its password.
const RECOGNISED: &[(&str, &str, Option<&str>)] = &[
    ("aegis-plain.json", "aegis", None),
    ("aegis-encrypted.json", "aegis", Some("aegis-password")),
    ("2fas-plain.2fas", "2fas", None),
    ("2fas-encrypted.2fas", "2fas", Some("2fas-password")),
    ("bitwarden.json", "bitwarden-json", None),
    ("bitwarden.csv", "bitwarden-csv", None),
    ("andotp.json", "andotp", None),
    ("freeotp-plus.json", "freeotp-plus", None),
    // Both lists carry Ente's `codeDisplay` parameter, so both are read as Ente's plain
    // export (its tags and notes come along); docs/transfer.md, "Recognition".
    ("otpauth.txt", "ente", None),
    ("ente.txt", "ente", None),
    ("google-authenticator.txt", "google-authenticator", None),
];

#[test]
fn auto_import_names_the_format_it_found() {
    for (file, format, password) in RECOGNISED {
        let user = User::new();
        user.init_default();
        let mut cmd = user.cmd();
        cmd.args(["vault", "import", "--passphrase-file"])
            .arg(&user.passphrase_file)
            .arg(Path::new(FIXTURES).join(file));
        if let Some(password) = password {
            cmd.env("COUNTERSIGN_FILE_PASSPHRASE", password);
        }
        let out = ok(&mut cmd);
        assert_eq!(
            out.lines().next(),
            Some(format!("recognised format: {format}").as_str()),
            "{file}: {out}"
        );
        assert!(out.contains("  added: "), "{file}: {out}");
    }
}

/// Every fixture of every format (those added later too) that detection recognises and
/// that needs no password: the command names the same format as the library.
#[test]
fn auto_import_of_every_plain_fixture_reports_the_detected_format() {
    let mut files = Vec::new();
    let mut folders = vec![PathBuf::from(FIXTURES)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut checked = 0;
    for file in files {
        let data = std::fs::read(&file).unwrap();
        let Ok((format, _)) = countersign_app::transfer::import_auto(&data, None) else {
            continue; // encrypted, broken on purpose, or not recognised
        };
        let user = User::new();
        user.init_default();
        let out = json(
            user.cmd()
                .args(["vault", "import", "--json", "--passphrase-file"])
                .arg(&user.passphrase_file)
                .arg(&file),
        );
        assert_eq!(out["format"], format.name(), "{}", file.display());
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} fixtures checked");
}

#[test]
fn json_import_lists_each_entry_failure_and_notice() {
    let user = User::new();
    user.init_default();
    let out = json(
        user.cmd()
            .args(["vault", "import", "--json", "--passphrase-file"])
            .arg(&user.passphrase_file)
            .arg(Path::new(FIXTURES).join("aegis-plain.json")),
    );
    assert_eq!(out["format"], "aegis");
    let accounts = out["accounts"].as_array().unwrap();
    let find = |label: &str| {
        accounts
            .iter()
            .find(|a| a["label"] == label)
            .unwrap_or_else(|| panic!("{label} not in {out}"))
    };
    for (label, issuer, kind) in [
        ("alice@example.com", "GitHub", "totp"),
        ("bob", "Bank", "totp"),
        ("carol", "VPN", "hotp"),
        ("dave", "Steam", "steam"),
    ] {
        let account = find(label);
        assert_eq!(account["issuer"], issuer);
        assert_eq!(account["kind"], kind);
        assert_eq!(account["status"], "added");
    }
    // Entry 6 ("broken") has no valid secret: a failure with its position and name.
    let failures = out["failures"].as_array().unwrap();
    let broken = failures.iter().find(|f| f["name"] == "broken").unwrap();
    assert_eq!(broken["index"], 5);
    assert!(!broken["reason"].as_str().unwrap().is_empty());
    assert!(out["notices"].is_array());
    // The seven entries are each accounted for: imported, failed, or a duplicate in the file.
    let duplicates = out["duplicates_in_file"].as_u64().unwrap() as usize;
    assert_eq!(accounts.len() + failures.len() + duplicates, 7, "{out}");

    // Again: every account is now already in the vault.
    let again = json(
        user.cmd()
            .args(["vault", "import", "--json", "--passphrase-file"])
            .arg(&user.passphrase_file)
            .arg(Path::new(FIXTURES).join("aegis-plain.json")),
    );
    assert_eq!(again["added"], 0);
    assert!(
        again["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "already_in_vault")
    );
}

#[test]
fn json_export_names_each_account_the_format_cannot_hold() {
    let user = User::new();
    user.init_default();
    ok(user
        .cmd()
        .args(["vault", "import", "--passphrase-file"])
        .arg(&user.passphrase_file)
        .arg(Path::new(FIXTURES).join("aegis-plain.json")));
    let out_file = user.cwd.join("ga.txt");
    let out = json(
        user.cmd()
            .args([
                "vault",
                "export",
                "--format",
                "google-authenticator",
                "--json",
                "--out",
            ])
            .arg(&out_file)
            .arg("--passphrase-file")
            .arg(&user.passphrase_file),
    );
    assert_eq!(out["format"], "google-authenticator");
    let notices = out["notices"].as_array().unwrap();
    // Google Authenticator cannot hold Steam (dave) nor Bank's 60-second period.
    let skipped: Vec<&str> = notices
        .iter()
        .filter(|n| n["skipped"] == true)
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(skipped.iter().any(|n| n.contains("dave")), "{out}");
    assert!(skipped.iter().any(|n| n.contains("bob")), "{out}");
    assert_eq!(
        out["exported"].as_u64().unwrap() + skipped.len() as u64,
        out["accounts"].as_u64().unwrap()
    );
    #[cfg(unix)]
    assert_eq!(mode(&out_file), 0o600);
}

#[test]
fn progress_line_on_request_only() {
    let user = User::new();
    user.init_default();
    let import = |progress: bool| {
        let mut cmd = user.cmd();
        cmd.args(["vault", "import", "--passphrase-file"])
            .arg(&user.passphrase_file)
            .arg(Path::new(FIXTURES).join("otpauth.txt"));
        if progress {
            cmd.arg("--progress");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    // stderr is a pipe here: nothing unless asked for.
    assert_eq!(import(false), "");
    let stderr = import(true);
    assert!(stderr.contains("adding accounts: "), "{stderr:?}");
    assert!(stderr.ends_with('\n'), "the line is ended: {stderr:?}");
    let export = user
        .cmd()
        .args([
            "vault",
            "export",
            "--format",
            "otpauth",
            "--progress",
            "--out",
        ])
        .arg(user.cwd.join("list.txt"))
        .arg("--passphrase-file")
        .arg(&user.passphrase_file)
        .output()
        .unwrap();
    assert!(export.status.success());
    assert!(String::from_utf8_lossy(&export.stderr).contains("exported: "));
}

/// Issue 13's first question, "how do I get my Authy tokens out?", answered by one command
/// per file: the encrypted app storage asks for the backup password (given here through
/// the environment) and lists each token; the Authy-native tokens each carry the notice that
/// they work only while the Authy device stays registered.
#[test]
fn an_authy_file_imports_with_one_command_and_names_each_notice() {
    let user = User::new();
    user.init_default();
    let authy = Path::new(FIXTURES).join("authy");
    let out = ok(user
        .cmd()
        .args(["vault", "import", "--passphrase-file"])
        .arg(&user.passphrase_file)
        .arg(authy.join("authenticator-encrypted.xml"))
        .env("COUNTERSIGN_FILE_PASSPHRASE", "authy-backup-password"));
    assert_eq!(
        out.lines().next(),
        Some("recognised format: authy"),
        "{out}"
    );
    for service in ["Service0 (user0)", "Service1 (user1)", "Service2 (user2)"] {
        assert!(out.contains(&format!("added: {service}")), "{out}");
    }
    assert!(out.contains("\"Broken: grace\" not imported"), "{out}");

    let out = json(
        user.cmd()
            .args(["vault", "import", "--json", "--passphrase-file"])
            .arg(&user.passphrase_file)
            .arg(authy.join("native.xml")),
    );
    assert_eq!(out["format"], "authy");
    let noticed: Vec<(u64, &str)> = out["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["index"].as_u64().unwrap(), n["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        noticed,
        [(0, "Twilio"), (1, "SendGrid"), (2, "Gemini")],
        "{out}"
    );
    for notice in out["notices"].as_array().unwrap() {
        assert!(
            notice["notice"].as_str().unwrap().contains("registered"),
            "{out}"
        );
    }
}
