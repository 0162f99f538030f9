//! Import benchmark (issue 12, point 8): `countersign-server users import` of 100,000 users
//! from a CSV file, the way an operator runs it (the release binary, a fresh app). Bar: under
//! 30 s with SQLite; the same run is reported against PostgreSQL when
//! COUNTERSIGN_TEST_DATABASE_URL is set
//! (`scripts/with-postgres cargo bench -p countersign-server --bench user_import`).
//! Measured: the first run (every row inserted) and a re-run (every row "unchanged").
//! Options: `-- --users 100000`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a bench fails by panicking

use std::fmt::Write as _;
use std::time::Instant;

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

struct Setup {
    dir: tempfile::TempDir,
    database_url: String,
}

impl Setup {
    fn server(&self) -> std::process::Command {
        let mut command = std::process::Command::new(BIN);
        command
            .env("COUNTERSIGN_DATABASE_URL", &self.database_url)
            .env(
                "COUNTERSIGN_MASTER_KEY_FILE",
                self.dir.path().join("master.key"),
            );
        command
    }

    fn create_app(&self) -> i64 {
        let out = self
            .server()
            .args(["app", "create", "--name", "Bench", "--json"])
            .output()
            .unwrap();
        let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        app["app_id"].as_i64().unwrap()
    }

    /// One timed run: (seconds, the JSON report).
    fn import(&self, file: &std::path::Path, app_id: i64) -> (f64, serde_json::Value) {
        let started = Instant::now();
        let out = self
            .server()
            .args(["users", "import"])
            .arg(file)
            .args(["--app-id", &app_id.to_string(), "--json"])
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (seconds, serde_json::from_slice(&out.stdout).unwrap())
    }
}

/// Ids start above the database's highest, so that a shared PostgreSQL can be used again.
async fn first_free_id(database_url: &str) -> i64 {
    let db = Db::connect(database_url).await.unwrap();
    let id = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    db.pool.close().await;
    id
}

fn export_csv(first_id: i64, users: u64) -> String {
    let mut text = String::from("authy_id,email,country_code,cellphone,custom_user_id\n");
    for i in 0..users {
        let id = first_id + i as i64;
        let phone = 2_000_000_000 + i;
        let _ = writeln!(text, "{id},user{i}@example.com,1,{phone},customer-{i}");
    }
    text
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this once as a smoke test with a small file.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let users = arg("--users", if smoke { 2_000 } else { 100_000 });
    let dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => format!("sqlite:{}", dir.path().join("bench.db").display()),
    };
    let setup = Setup { dir, database_url };
    let app_id = setup.create_app();
    let first_id = first_free_id(&setup.database_url).await;
    let file = setup.dir.path().join("users.csv");
    std::fs::write(&file, export_csv(first_id, users)).unwrap();

    let (first, report) = setup.import(&file, app_id);
    assert_eq!(report["imported"], users, "{report}");
    let (again, report) = setup.import(&file, app_id);
    assert_eq!(report["unchanged"], users, "{report}");

    let backend = if setup.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "users import ({backend}): {users} users in {first:.2} s ({:.0} users/s); re-run, all unchanged: {again:.2} s",
        users as f64 / first
    );
    if !smoke && first >= 30.0 {
        println!("ABOVE THE BAR: 100,000 users must import in under 30 s");
    }
}
