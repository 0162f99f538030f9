//! Crash safety: a writer process is SIGKILLed at random moments, again and again, while it
//! adds accounts and advances an HOTP counter. After every kill the vault must open with
//! every acknowledged write intact, nothing torn, and the counter never behind.
//!
//! The writer is this test binary re-executed with `COUNTERSIGN_CRASH_WRITER` set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use countersign_app::vault::{EntryId, EntryMeta, KdfParams, Vault};
use countersign_app::{Account, OtpKind, OtpParameters, Secret};
use rand::{RngExt, SeedableRng};

const PASS: &str = "crash test passphrase";
const WRITER_ENV: &str = "COUNTERSIGN_CRASH_WRITER";

fn account(n: u64) -> Account {
    let secret =
        Secret::from_bytes((0..20).map(|b| (b as u64 * 31 + n * 17) as u8).collect()).unwrap();
    Account::new(
        Some("Crash".into()),
        format!("acct-{n}"),
        secret,
        OtpParameters::default_totp(),
    )
}

/// The child: writes until killed, printing one line per committed write.
#[test]
fn crash_writer_child() {
    let Ok(path) = std::env::var(WRITER_ENV) else {
        return;
    };
    let start: u64 = std::env::var("COUNTERSIGN_CRASH_START")
        .unwrap()
        .parse()
        .unwrap();
    let mut vault = Vault::open(Path::new(&path)).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    let hotp_id = vault
        .entries()
        .unwrap()
        .iter()
        .find(|e| e.account.label == "counter")
        .unwrap()
        .id;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    for n in start.. {
        vault
            .add(
                account(n),
                EntryMeta {
                    tags: vec![format!("t{n}")],
                    notes: String::new(),
                    icon: None,
                },
            )
            .unwrap();
        writeln!(out, "added {n}").unwrap();
        out.flush().unwrap();
        let code = vault.next_hotp_code(hotp_id).unwrap();
        writeln!(out, "counter {}", code.step + 1).unwrap();
        out.flush().unwrap();
    }
}

fn hotp_counter(vault: &Vault, id: EntryId) -> u64 {
    match vault.entry(id).unwrap().account.params.kind() {
        OtpKind::Hotp { counter } => counter,
        other => panic!("{other:?}"),
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    if std::env::var(WRITER_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let hotp_id = {
        let mut vault = Vault::create(&path, PASS, KdfParams::MINIMUM).unwrap();
        let hotp = Account::new(
            None,
            "counter",
            Secret::from_bytes(vec![3; 20]).unwrap(),
            OtpParameters::hotp(Default::default(), 6, 0).unwrap(),
        );
        vault.add(hotp, EntryMeta::default()).unwrap()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc4a5);
    let mut acknowledged_adds: Vec<u64> = Vec::new();
    let mut acknowledged_counter = 0u64;
    let mut last_seen_counter = 0u64;
    let mut writes = 0usize;
    let mut kills = 0usize;
    let mut next = 0u64;
    while writes < 400 || kills < 25 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(WRITER_ENV, &path)
            .env("COUNTERSIGN_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, receive) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut acknowledge = |line: String| {
            if let Some(n) = line.strip_prefix("added ") {
                acknowledged_adds.push(n.parse().unwrap());
            } else if let Some(c) = line.strip_prefix("counter ") {
                acknowledged_counter = acknowledged_counter.max(c.parse().unwrap());
            }
        };
        // Let it get going (the unlock takes a moment), then kill it mid-stride.
        let target = rng.random_range(1..40);
        for _ in 0..target {
            let line = receive
                .recv_timeout(Duration::from_secs(20))
                .expect("the writer stopped producing output");
            acknowledge(line);
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..3000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        reader.join().unwrap();
        // Every line printed before the kill is an acknowledged write.
        for line in receive.try_iter() {
            acknowledge(line);
        }

        let mut vault = Vault::open(&path).unwrap();
        vault.unlock_with_passphrase(PASS).unwrap();
        assert!(vault.damaged().unwrap().is_empty(), "{:?}", vault.damaged());
        // Present entries are exactly what was written: nothing torn.
        let mut present = std::collections::HashSet::new();
        for entry in vault.entries().unwrap() {
            if let Some(n) = entry.account.label.strip_prefix("acct-") {
                let n: u64 = n.parse().unwrap();
                assert_eq!(entry.account, account(n));
                assert_eq!(entry.meta.tags, vec![format!("t{n}")]);
                present.insert(n);
            }
        }
        for n in &acknowledged_adds {
            assert!(
                present.contains(n),
                "acknowledged account {n} is missing after kill {kills}"
            );
        }
        let counter = hotp_counter(&vault, hotp_id);
        assert!(
            counter >= acknowledged_counter,
            "acknowledged counter {acknowledged_counter}, stored {counter}"
        );
        assert!(
            counter >= last_seen_counter,
            "the HOTP counter went backwards: {counter} < {last_seen_counter}"
        );
        last_seen_counter = counter;
        next = present.iter().max().map_or(0, |m| m + 1);
        writes = present.len() + counter as usize;
        vault.lock();
    }
    assert!(
        kills >= 25 && writes >= 400,
        "{kills} kills, {writes} writes"
    );
}
