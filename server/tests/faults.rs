//! Issue 10's fault suite: the server under load while its database fails — a full
//! filesystem, a read-only one, PostgreSQL stopped or frozen — and while the server itself is
//! killed or terminated. After each: no acknowledged write is missing, no code is accepted
//! twice, `/healthz` tells the truth, and service comes back without an operator.
//!
//! The SQLite cases mount a small tmpfs (root, as on the development machines and in CI);
//! the PostgreSQL case needs the server that `scripts/with-postgres` started (it exports
//! where its data directory and binaries are).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use countersign_otp::{Account, otpauth};
use reqwest::blocking::Client;
use serde_json::Value;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
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
        Tmpfs(dir)
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Fills the filesystem with a file until a write fails for want of space.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5au8; 16 * 1024];
        while file
            .write_all(&chunk)
            .and_then(|_| file.sync_data())
            .is_ok()
        {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Held by every test that uses the shared PostgreSQL server, since one of them stops it.
static SHARED_DATABASE: Mutex<()> = Mutex::new(());

fn sqlite() -> bool {
    std::env::var("COUNTERSIGN_TEST_DATABASE_URL").map_or(true, |v| v.is_empty())
}

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An HTTP status and JSON body; status 0 when the request got no answer at all.
fn call(request: reqwest::blocking::RequestBuilder) -> (u16, Value) {
    match request.send() {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// A user with a generic-authenticator secret, so that the test can compute valid codes.
struct User {
    id: i64,
    account: Account,
}

fn new_user(server: &common::Server, n: usize) -> User {
    let id = server.new_user(&format!("77009{n:05}"));
    let (status, body) = call(
        http()
            .post(format!(
                "{}/protected/json/users/{id}/secret",
                server.base_url
            ))
            .header("X-Authy-API-Key", &server.api_key),
    );
    assert_eq!(status, 200, "{body}");
    let account = otpauth::parse(body["uri"].as_str().unwrap())
        .unwrap()
        .account;
    User { id, account }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What the server acknowledged (200, or 401 for a counted wrong guess), to be checked
/// after the fault.
#[derive(Default)]
struct Ledger {
    /// (user, code) accepted: must never be accepted again.
    accepted: Vec<(i64, String)>,
    /// Approval requests created: must still exist.
    approvals: Vec<String>,
    /// Users with acknowledged wrong guesses up to the limit: must be locked.
    locked: Vec<i64>,
    /// Answers that were neither an acknowledgement nor an honest 503/429.
    other: Vec<(u16, Value)>,
    unavailable: usize,
}

impl Ledger {
    fn note_other(&mut self, status: u16, body: Value) {
        match status {
            503 | 0 => self.unavailable += 1,
            _ => self.other.push((status, body)),
        }
    }
}

/// One round of writes for `user`: a valid code, an approval request, and (for every third
/// user) wrong guesses up to the lock-out. Each acknowledged outcome goes in the ledger.
fn exercise(server_url: &str, api_key: &str, user: &User, ledger: &Mutex<Ledger>) {
    let client = http();
    let get = |path: String| {
        call(
            client
                .get(format!("{server_url}{path}"))
                .header("X-Authy-API-Key", api_key),
        )
    };
    let code = user.account.code_at(unix_now()).code.as_str().to_owned();
    let (status, body) = get(format!(
        "/protected/json/verify/{code}/{}?force=true",
        user.id
    ));
    match status {
        200 => ledger
            .lock()
            .unwrap()
            .accepted
            .push((user.id, code.clone())),
        401 | 429 => {} // the step was already used in this 30 s, or the user is locked
        _ => ledger.lock().unwrap().note_other(status, body),
    }
    let (status, body) = call(
        client
            .post(format!(
                "{server_url}/onetouch/json/users/{}/approval_requests",
                user.id
            ))
            .header("X-Authy-API-Key", api_key)
            .form(&[
                ("message", "Approve payment"),
                ("details[Amount]", "7.00 EUR"),
            ]),
    );
    match status {
        200 => ledger.lock().unwrap().approvals.push(
            body["approval_request"]["uuid"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        429 => {} // the user's pending limit
        _ => ledger.lock().unwrap().note_other(status, body),
    }
    if user.id % 3 == 0 {
        let mut counted = 0;
        for guess in 0..5 {
            let wrong = format!(
                "{:06}",
                (code.parse::<u32>().unwrap_or(0) + 1 + guess) % 1_000_000
            );
            let (status, body) = get(format!(
                "/protected/json/verify/{wrong}/{}?force=true",
                user.id
            ));
            match status {
                401 => counted += 1,
                429 => {}
                _ => ledger.lock().unwrap().note_other(status, body),
            }
        }
        if counted == 5 {
            ledger.lock().unwrap().locked.push(user.id);
        }
    }
}

/// Runs [`exercise`] over `users` on `threads` threads until `stop` is set.
fn load(
    server: &common::Server,
    users: Arc<Vec<User>>,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    threads: usize,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..threads)
        .map(|t| {
            let (url, key) = (server.base_url.clone(), server.api_key.clone());
            let (users, ledger, stop) = (users.clone(), ledger.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    exercise(&url, &key, &users[i % users.len()], &ledger);
                    i += threads;
                }
            })
        })
        .collect()
}

/// Every acknowledged write is there: no accepted code is accepted again, every created
/// approval request exists, every lock holds.
fn check_ledger(server: &common::Server, ledger: &Ledger) {
    let client = http();
    let get = |path: String| {
        call(
            client
                .get(format!("{}{path}", server.base_url))
                .header("X-Authy-API-Key", &server.api_key),
        )
    };
    assert!(
        ledger.other.is_empty(),
        "answers that were neither acknowledged nor 503: {:?}",
        ledger.other
    );
    for (user, code) in &ledger.accepted {
        let (status, body) = get(format!("/protected/json/verify/{code}/{user}?force=true"));
        assert_ne!(
            status, 200,
            "an acknowledged code was accepted again: {body}"
        );
    }
    for uuid in &ledger.approvals {
        let (status, body) = get(format!("/onetouch/json/approval_requests/{uuid}"));
        assert_eq!(
            status, 200,
            "an acknowledged approval request is missing: {body}"
        );
    }
    for user in &ledger.locked {
        let (status, _) = get(format!("/protected/json/verify/000000/{user}?force=true"));
        assert_eq!(status, 429, "user {user}'s acknowledged lock-out was lost");
    }
}

fn health(server_url: &str) -> u16 {
    call(http().get(format!("{server_url}/healthz"))).0
}

/// Polls `/healthz` until it answers `status`; panics after `limit`.
fn wait_for_health(server_url: &str, status: u16, limit: Duration, what: &str) -> Duration {
    let started = Instant::now();
    while health(server_url) != status {
        assert!(
            started.elapsed() < limit,
            "/healthz did not turn {status} within {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

fn start_on(dir: Option<&Path>) -> common::Server {
    common::Server::start(&common::Options {
        sqlite_dir: dir.map(Path::to_owned),
        ..Default::default()
    })
}

/// Finding 14: on a full disk no write is acknowledged and then lost; health says so; when
/// space returns, service resumes without a restart; after a kill and restart every
/// acknowledged write is there.
#[test]
fn a_full_disk_is_reported_and_no_acknowledged_write_is_lost() {
    if !sqlite() {
        return;
    }
    let disk = Tmpfs::mount("8m");
    let mut server = start_on(Some(&disk.0));
    let users: Arc<Vec<User>> = Arc::new((0..24).map(|n| new_user(&server, n)).collect());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(&server, users.clone(), ledger.clone(), stop.clone(), 4);
    std::thread::sleep(Duration::from_millis(500));
    let filler = disk.fill();
    // Keep writing until the database runs out of space (new rows need new pages).
    let full_at = Instant::now();
    let seen_unavailable = loop {
        if ledger.lock().unwrap().unavailable > 0 {
            break true;
        }
        if full_at.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        seen_unavailable,
        "the disk never filled up: the test did not test anything"
    );
    // Writes keep failing for a while (a commit that fails here used to leave the writer
    // connection inside its transaction, and later writes were acknowledged but never
    // committed).
    std::thread::sleep(Duration::from_secs(2));
    let health_while_full = health(&server.base_url);
    std::fs::remove_file(&filler).unwrap();
    wait_for_health(
        &server.base_url,
        200,
        Duration::from_secs(5),
        "after space returned",
    );
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    workers.into_iter().for_each(|w| w.join().unwrap());
    // Acknowledged writes, before and after the disk was full, survive a kill.
    server.kill();
    server.start_again();
    let ledger = ledger.lock().unwrap();
    assert!(!ledger.approvals.is_empty() && !ledger.accepted.is_empty());
    check_ledger(&server, &ledger);
    assert_eq!(health_while_full, 503, "/healthz while the disk was full");
}

/// Finding 14: a SQLite database that another process holds locked (a backup, an operator's
/// shell) is "stuck": writes are answered 503 within the deadline, health says so, and service
/// resumes when the lock goes. A database on a read-only filesystem stops the server at start
/// with a clear error instead of serving reads it cannot record.
#[test]
fn a_stuck_or_read_only_database_is_reported_and_service_resumes() {
    if !sqlite() {
        return;
    }
    let disk = Tmpfs::mount("16m");
    let mut server = start_on(Some(&disk.0));
    let users: Vec<User> = (0..4).map(|n| new_user(&server, 100 + n)).collect();
    let ledger = Mutex::new(Ledger::default());
    exercise(&server.base_url, &server.api_key, &users[0], &ledger);

    let mut locker = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             db = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             db.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(float(sys.argv[2]))\n\
             db.execute('ROLLBACK')",
        ])
        .arg(disk.0.join("server.db"))
        .arg("6")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let stdout = locker.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line.trim(), "locked");
    let started = Instant::now();
    let (status, body) = call(
        http()
            .post(format!(
                "{}/onetouch/json/users/{}/approval_requests",
                server.base_url, users[1].id
            ))
            .header("X-Authy-API-Key", &server.api_key)
            .form(&[("message", "Approve payment")]),
    );
    assert_eq!(status, 503, "a write to a locked database: {body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );
    wait_for_health(
        &server.base_url,
        503,
        Duration::from_secs(5),
        "locked by another process",
    );
    wait_for_health(
        &server.base_url,
        200,
        Duration::from_secs(10),
        "the lock released",
    );
    assert!(locker.wait().unwrap().success());
    exercise(&server.base_url, &server.api_key, &users[2], &ledger);

    let took = server.terminate();
    assert!(took < Duration::from_secs(12));
    disk.remount("ro");
    let refused = server
        .command()
        .args(["--listen", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "the server started on a read-only database"
    );
    let message = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(message.contains("read-only file system"), "{message}");
    disk.remount("rw");
    server.start_again();
    wait_for_health(
        &server.base_url,
        200,
        Duration::from_secs(5),
        "writable again",
    );
    check_ledger(&server, &ledger.lock().unwrap());
}

/// SIGKILL and SIGTERM under load: nothing acknowledged is lost; SIGTERM answers the
/// requests in flight and exits within a bound.
#[test]
fn kills_and_terminations_under_load_lose_no_acknowledged_write() {
    let _exclusive = SHARED_DATABASE.lock().unwrap_or_else(|e| e.into_inner());
    let mut server = start_on(None);
    let users: Arc<Vec<User>> = Arc::new((0..24).map(|n| new_user(&server, 200 + n)).collect());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..2 {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = load(&server, users.clone(), ledger.clone(), stop.clone(), 4);
        std::thread::sleep(Duration::from_millis(1500));
        if round == 0 {
            server.kill();
            server.start_again();
        } else {
            let took = server.terminate();
            assert!(took < Duration::from_secs(12), "SIGTERM took {took:?}");
            server.start_again();
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().for_each(|w| w.join().unwrap());
    }
    wait_for_health(
        &server.base_url,
        200,
        Duration::from_secs(5),
        "after the restarts",
    );
    let ledger = ledger.lock().unwrap();
    assert!(!ledger.approvals.is_empty() && !ledger.accepted.is_empty());
    check_ledger(&server, &ledger);
}

/// The PostgreSQL server of `scripts/with-postgres`: its binaries and data directory.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    /// `pg_ctl start` options: the port, socket folder and settings it was started with.
    start: String,
}

impl Postgres {
    fn from_env() -> Option<Postgres> {
        Some(Postgres {
            bin: std::env::var_os("COUNTERSIGN_TEST_PG_BIN")?.into(),
            data: std::env::var_os("COUNTERSIGN_TEST_PG_DATA")?.into(),
            start: std::env::var("COUNTERSIGN_TEST_PG_START").ok()?,
        })
    }

    fn ctl(&self, args: &str) {
        let command = format!(
            "'{}/pg_ctl' -D '{}' {args}",
            self.bin.display(),
            self.data.display()
        );
        let status = Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", &command])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args}");
    }

    /// SIGSTOP / SIGCONT to the postmaster and every backend: a frozen server that still
    /// holds its connections open.
    fn signal_all(&self, signal: &str) {
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_owned();
        let _ = Command::new("pkill")
            .args([&format!("-{signal}"), "-P", &pid])
            .status();
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
    }
}

/// Finding 7: while PostgreSQL is stopped or frozen, requests and /healthz are answered fast
/// with 503, and service comes back by itself; nothing acknowledged is lost.
#[test]
fn postgres_stopped_or_frozen_is_answered_fast_and_recovers() {
    if sqlite() {
        return;
    }
    let _exclusive = SHARED_DATABASE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(postgres) = Postgres::from_env() else {
        panic!("COUNTERSIGN_TEST_PG_BIN/DATA are not set: run under scripts/with-postgres");
    };
    let server = start_on(None);
    let users: Arc<Vec<User>> = Arc::new((0..12).map(|n| new_user(&server, 300 + n)).collect());
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let outage = |stop_db: &dyn Fn(), start_db: &dyn Fn(), what: &str| {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = load(&server, users.clone(), ledger.clone(), stop.clone(), 3);
        std::thread::sleep(Duration::from_millis(700));
        stop_db();
        let detected = wait_for_health(&server.base_url, 503, Duration::from_secs(6), what);
        // Once the outage is known, API requests are refused at once.
        let started = Instant::now();
        let (status, _) = call(
            http()
                .get(format!(
                    "{}/protected/json/users/{}/status",
                    server.base_url, users[0].id
                ))
                .header("X-Authy-API-Key", &server.api_key),
        );
        let answered = started.elapsed();
        assert_eq!(status, 503, "{what}");
        assert!(
            answered < Duration::from_secs(1),
            "{what}: answered in {answered:?}"
        );
        eprintln!("{what}: /healthz 503 after {detected:?}, a request answered in {answered:?}");
        std::thread::sleep(Duration::from_secs(1));
        start_db();
        wait_for_health(&server.base_url, 200, Duration::from_secs(15), what);
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().for_each(|w| w.join().unwrap());
    };
    outage(
        &|| postgres.ctl("-m immediate stop"),
        &|| postgres.ctl(&format!("-w {} start", postgres.start)),
        "PostgreSQL stopped",
    );
    outage(
        &|| postgres.signal_all("STOP"),
        &|| postgres.signal_all("CONT"),
        "PostgreSQL frozen",
    );
    let ledger = ledger.lock().unwrap();
    assert!(!ledger.approvals.is_empty() && !ledger.accepted.is_empty());
    check_ledger(&server, &ledger);
}
