//! Load benchmark (issue 5): TOTP verification requests against a real server on loopback.
//! Bar: ≥ 10,000 verifications/s, p99 ≤ 20 ms, 0 errors over 60 s, with SQLite; the same
//! run is reported against PostgreSQL when COUNTERSIGN_TEST_DATABASE_URL is set
//! (`scripts/with-postgres cargo bench -p countersign-server --bench verify_load`).
//!
//! Every request verifies the current, valid code of a different user, as real logins do:
//! the users are many enough (one per request for the step's duration) that no code is ever
//! a replay. Options: `-- --seconds 60 --concurrency 64 --users 700000`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use countersign_otp::{Account, OtpParameters, Secret};
use countersign_server::seal::MasterKey;
use countersign_server::store::db::Db;
use sqlx::Row;

const BIN: &str = env!("CARGO_BIN_EXE_countersign-server");

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed_of(i: u64) -> [u8; 20] {
    let mut seed = [0u8; 20];
    seed[..8].copy_from_slice(&i.to_be_bytes());
    seed[8..16].copy_from_slice(&(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_be_bytes());
    seed
}

/// The bench's database and master key, and how to run the server binary on them.
struct Setup {
    _dir: tempfile::TempDir,
    database_url: String,
    key_file: std::path::PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => format!("sqlite:{}", dir.path().join("bench.db").display()),
        };
        let key_file = dir.path().join("master.key");
        Setup {
            _dir: dir,
            database_url,
            key_file,
        }
    }

    fn server(&self) -> std::process::Command {
        let mut command = std::process::Command::new(BIN);
        command
            .env("COUNTERSIGN_DATABASE_URL", &self.database_url)
            .env("COUNTERSIGN_MASTER_KEY_FILE", &self.key_file);
        command
    }

    /// Creates the bench's app: (app id, API key).
    fn create_app(&self) -> (i64, String) {
        let out = self
            .server()
            .args(["app", "create", "--name", "Bench", "--json"])
            .output()
            .unwrap();
        let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            app["app_id"].as_i64().unwrap(),
            app["api_key"].as_str().unwrap().to_owned(),
        )
    }
}

/// Writes `users` users, each with a registered device, straight into the database (setup
/// is not what is measured); returns the first user's id.
async fn seed_users(setup: &Setup, app_id: i64, users: u64) -> i64 {
    let started = Instant::now();
    let db = Db::connect(&setup.database_url).await.unwrap();
    let master = MasterKey::load_or_create(&setup.key_file).unwrap();
    let first_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    for chunk_start in (0..users).step_by(500) {
        let mut tx = db.pool.begin().await.unwrap();
        let mut sql = String::from(
            "INSERT INTO users (id, app_id, email, cellphone, country_code, custom_user_id, seed_sealed, confirmed, last_step_app, last_step_sms, failed_attempts, locked_until, authenticator_sealed, authenticator_created_at, authenticator_confirmed, last_step_authenticator, deleted, created_at) VALUES ",
        );
        let end = (chunk_start + 500).min(users);
        for i in chunk_start..end {
            let id = first_id + i as i64;
            let sealed = master.seal(&format!("users.seed:{id}"), &seed_of(i));
            if i > chunk_start {
                sql.push(',');
            }
            sql.push_str(&format!("({id}, {app_id}, 'u{i}@example.com', '{}', 1, NULL, '{sealed}', 1, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 0)", 5_550_000_000u64 + i));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
        // App codes are accepted only while a device that received the seed is registered.
        let devices: Vec<String> = (chunk_start..end)
            .map(|i| {
                format!(
                    "({}, 'android', 'bench', '', NULL, 0, 0, 0)",
                    first_id + i as i64
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO devices (user_id, os_type, name, public_key, push_token, revoked, created_at, last_seen) VALUES {}",
            devices.join(",")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    db.pool.close().await;
    println!(
        "setup: {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    first_id
}

/// What the load run needs to address users and the server.
struct Target {
    base: String,
    api_key: String,
    first_id: i64,
    accounts: Vec<Account>,
}

/// Counters the workers share.
#[derive(Default)]
struct Progress {
    next: AtomicU64,
    errors: AtomicU64,
    /// The first failed answer, to say why a run had errors.
    first_failure: std::sync::Mutex<Option<String>>,
}

/// One worker: verifies the current code of the next unused user until the deadline;
/// returns its latencies in µs.
async fn worker(
    client: reqwest::Client,
    target: Arc<Target>,
    progress: Arc<Progress>,
    deadline: Instant,
) -> Vec<u32> {
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        // Each user is used once: a second request would be a replay, refused by design.
        let i = progress.next.fetch_add(1, Ordering::Relaxed);
        let Some(account) = target.accounts.get(i as usize) else {
            break;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = account.code_at(now).code;
        let url = format!(
            "{}/protected/json/verify/{code}/{}",
            target.base,
            target.first_id + i as i64
        );
        let sent = Instant::now();
        let failure = match client
            .get(&url)
            .header("X-Authy-API-Key", &target.api_key)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                (!status.is_success() || !text.contains("\"token\":\"is valid\""))
                    .then(|| format!("{status}: {text}"))
            }
            Err(e) => Some(e.to_string()),
        };
        latencies.push(sent.elapsed().as_micros() as u32);
        if let Some(failure) = failure {
            progress.errors.fetch_add(1, Ordering::Relaxed);
            progress
                .first_failure
                .lock()
                .unwrap()
                .get_or_insert(failure);
        }
    }
    latencies
}

/// Starts the server binary on a free loopback port; returns it and its base URL.
async fn spawn_server(setup: &Setup) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = setup
        .server()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, format!("http://127.0.0.1:{port}"))
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this once as a smoke test with tiny numbers.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let seconds = arg("--seconds", if smoke { 1 } else { 60 });
    let concurrency = arg("--concurrency", 64);
    let users = arg("--users", if smoke { 20_000 } else { 1_000_000 });

    let setup = Setup::new();
    let (app_id, api_key) = setup.create_app();
    let first_id = seed_users(&setup, app_id, users).await;
    let (mut server, base) = spawn_server(&setup).await;

    let accounts = (0..users)
        .map(|i| {
            Account::new(
                None,
                "",
                Secret::from_bytes(seed_of(i).to_vec()).unwrap(),
                OtpParameters::totp(Default::default(), 7, 30).unwrap(),
            )
        })
        .collect();
    let target = Arc::new(Target {
        base,
        api_key,
        first_id,
        accounts,
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .unwrap();
    let progress = Arc::new(Progress::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(worker(
                client.clone(),
                target.clone(),
                progress.clone(),
                deadline,
            ))
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let _ = std::process::Command::new("kill")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
    if progress.next.load(Ordering::Relaxed) >= users {
        println!("note: every user was used before the time was up; pass a larger --users");
    }
    let errors = progress.errors.load(Ordering::Relaxed);
    report(&setup.database_url, concurrency, seconds, all, errors);
    if let Some(failure) = progress.first_failure.lock().unwrap().take() {
        println!("the first failed answer: {failure}");
    }
    if smoke {
        assert_eq!(errors, 0, "every valid code must verify");
    }
}

fn report(database_url: &str, concurrency: u64, seconds: u64, mut all: Vec<u32>, errors: u64) {
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let backend = if database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "verify load ({backend}, {concurrency} connections, {seconds} s): {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.99),
        errors
    );
}
