//! A fresh database per server: PostgreSQL when `COUNTERSIGN_TEST_DATABASE_URL` is set (a new
//! schema, so tests running at once never see each other's rows), else a SQLite file.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A new, empty database's URL: a new schema on the PostgreSQL server, or `server.db` in `dir`.
pub fn fresh_database_url(dir: &Path) -> String {
    match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => postgres_schema(&base),
        _ => format!("sqlite:{}", dir.join("server.db").display()),
    }
}

fn postgres_schema(base: &str) -> String {
    static SERVERS: AtomicU32 = AtomicU32::new(0);
    // Unique across the test processes running at once (pid) and within one (counter).
    let schema = format!(
        "e2e_{}_{}",
        std::process::id(),
        SERVERS.fetch_add(1, Ordering::Relaxed)
    );
    let status = Command::new("psql")
        .arg(base)
        .args(["-qc", &format!("CREATE SCHEMA {schema}")])
        .status()
        .unwrap();
    assert!(status.success(), "cannot create a schema in {base}");
    let separator = if base.contains('?') { "&" } else { "?" };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}
