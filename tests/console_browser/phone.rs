//! A phone, played by the `countersign` command (this package's build of it: see the support
//! library) with a vault of its own: registers with the bank and answers approval requests,
//! exactly as a customer's or an operator's device does.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const COUNTERSIGN: &str = env!("CARGO_BIN_EXE_countersign-e2e-cli");

pub struct Phone {
    vault: PathBuf,
}

impl Phone {
    /// A new vault in `dir` (cheap KDF settings: the vault's strength is not under test here).
    pub fn new(dir: &Path, name: &str) -> Phone {
        let phone = Phone {
            vault: dir.join(format!("{name}.vault")),
        };
        phone
            .command()
            .args(["vault", "init", "--kdf-memory-kib", "19456"])
            .args(["--kdf-iterations", "2"])
            .assert()
            .success();
        phone
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(COUNTERSIGN);
        cmd.env("COUNTERSIGN_VAULT", &self.vault)
            .env("COUNTERSIGN_PASSPHRASE", "correct horse battery staple");
        cmd
    }

    /// `countersign --json ARGS…`: its JSON answer, or `Err(stderr)` when it failed.
    pub fn try_json(&self, args: &[&str]) -> Result<Value, String> {
        let out = self.command().arg("--json").args(args).output().unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    }

    pub fn json(&self, args: &[&str]) -> Value {
        self.try_json(args)
            .unwrap_or_else(|stderr| panic!("countersign {args:?} failed: {stderr}"))
    }

    /// Scans the registration QR's URI; returns the registration.
    pub fn register(&self, uri: &str) -> Value {
        self.json(&["device", "register", uri])
    }

    /// The pending requests, each already verified against its server's key by the command.
    pub fn pending(&self) -> Vec<Value> {
        self.json(&["approvals", "list"])
            .as_array()
            .unwrap()
            .clone()
    }

    /// Approves `uuid`, typing `number` when the request uses number matching.
    pub fn approve(&self, uuid: &str, number: Option<&str>) -> Value {
        let mut args = vec!["approvals", "approve", uuid];
        if let Some(number) = number {
            args.extend(["--number", number]);
        }
        self.json(&args)
    }
}
