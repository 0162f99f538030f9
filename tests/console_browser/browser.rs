//! Runs the browser side (`console_flow.py`: Selenium driving Debian's headless Chromium
//! through chromedriver) as a child process and answers what it asks of the test while a page
//! waits — approve on the phone, check the API keys over HTTP — over a line protocol:
//! the script prints `ASK <json>` and reads one JSON line back; it ends with `DONE <json>`.
//! Stderr is the script's log, passed through.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/console_browser/console_flow.py"
);
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots go: `artifacts/screenshots/<database>/` at the repository's root
/// (gitignored; scripts/test prints the place so that CI keeps them), one folder per database
/// so that the PostgreSQL run keeps the SQLite run's pictures.
pub fn screenshot_dir() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    let database = match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => "postgres",
        _ => "sqlite",
    };
    tests
        .parent()
        .unwrap_or(tests)
        .join("artifacts/screenshots")
        .join(database)
}

/// No browser is a failure, never a skip: the acceptance runs in a real one.
pub fn require_chromium() {
    for program in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: install Debian's chromium and chromium-driver \
             (scripts/test does: apt-get install -y chromium chromium-driver)"
        );
    }
}

/// Runs the script with `setup` (one JSON argument); `answer` replies to each `ASK`.
/// Returns the script's `DONE` value; panics when the script fails.
pub fn run(setup: &Value, mut answer: impl FnMut(&Value) -> Value) -> Value {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .arg(setup.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut to_script = child.stdin.take().unwrap();
    let from_script = BufReader::new(child.stdout.take().unwrap());
    let mut done = None;
    for line in from_script.lines() {
        let line = line.unwrap();
        if let Some(question) = line.strip_prefix("ASK ") {
            let reply = answer(&serde_json::from_str(question).unwrap());
            writeln!(to_script, "{reply}").unwrap();
            to_script.flush().unwrap();
        } else if let Some(result) = line.strip_prefix("DONE ") {
            done = Some(serde_json::from_str(result).unwrap());
        } else {
            eprintln!("browser: {line}");
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the browser script failed ({status})");
    done.expect("the browser script ended without its result")
}
