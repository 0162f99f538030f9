//! The official Authy client libraries, unchanged, drive a real server through every method
//! they offer: Python `authy` 2.2.6, Java `com.authy:authy-java` 1.5.1, npm `authy` 1.4.0 and
//! `authy-client` 1.1.4. Each driver (`tests/sdk/`) prints one line per call (`<library>
//! <method> ok` or `… FAILED <why>`) so that a gap is named, and exits non-zero on any failure.
//!
//! Python, Java, Maven, Node and npm must be installed: a missing one fails the test with a
//! message saying what to install, never a silent skip. The Java driver is built with Maven and
//! the npm packages installed from the lockfile when absent or stale (scripts/test does both
//! first, so a CI run builds them once).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

#[path = "sdk/approver.rs"]
mod approver;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The user every driver creates first (the same phone gives the same Authy ID): the test
/// registers the approving device for it before the driver starts.
const EMAIL: &str = "luna@hogwarts.example";
const PHONE: &str = "351-338-9310";
const COUNTRY: &str = "54";

#[derive(Clone, Copy, Debug)]
enum Library {
    Python,
    Java,
    Node,
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// Runs a preparation command once per test process; a missing tool fails loudly.
fn prepare(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|error| {
        panic!("{what}: cannot run {command:?} ({error}); install it (see scripts/test)")
    });
    assert!(status.success(), "{what}: {command:?} failed ({status})");
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// True when `output` is missing or older than any of `inputs`.
fn stale(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = modified(output) else {
        return true;
    };
    inputs
        .iter()
        .any(|input| modified(input).is_none_or(|m| m > built))
}

/// Builds the Java driver (`mvn package`) unless its classes are newer than its sources.
fn java_driver() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let project = sdk_dir().join("java");
        let class = project.join("target/classes/countersign/AuthyJavaDriver.class");
        let inputs = [
            project.join("pom.xml"),
            project.join("src/main/java/countersign/AuthyJavaDriver.java"),
        ];
        if stale(&class, &inputs) || !project.join("target/dependency").is_dir() {
            prepare(
                Command::new("mvn")
                    .args(["-B", "-q", "-f"])
                    .arg(project.join("pom.xml"))
                    .arg("package"),
                "the Java driver needs Maven and a JDK 17",
            );
        }
        project
    })
}

/// Installs the npm packages from the lockfile (`npm ci`) unless they are in place.
fn node_driver() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let project = sdk_dir().join("node");
        let marker = project.join("node_modules/.package-lock.json");
        if stale(&marker, &[project.join("package-lock.json")]) {
            prepare(
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&project),
                "the Node driver needs Node.js and npm",
            );
        }
        project
    })
}

/// The command that starts a library's driver; `ca` is the test CA when the server speaks TLS.
fn driver(library: Library, ca: Option<&Path>) -> Command {
    match library {
        Library::Python => {
            let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
            let mut command = Command::new(python);
            command.arg(sdk_dir().join("authy_flow.py"));
            match ca {
                Some(ca) => command.env("REQUESTS_CA_BUNDLE", ca),
                None => command.env_remove("REQUESTS_CA_BUNDLE"),
            };
            command
        }
        Library::Java => {
            let project = java_driver();
            let classpath = format!(
                "{}:{}/*",
                project.join("target/classes").display(),
                project.join("target/dependency").display()
            );
            let mut command = Command::new("java");
            command.args(["-cp", &classpath, "countersign.AuthyJavaDriver"]);
            command
        }
        Library::Node => {
            let mut command = Command::new("node");
            command.arg(node_driver().join("driver.js"));
            if let Some(ca) = ca {
                command.env("NODE_EXTRA_CA_CERTS", ca);
            }
            command
        }
    }
}

/// Creates the drivers' first user through the API, as the driver will: returns its Authy ID.
fn shared_user(server: &common::Server, http: &reqwest::blocking::Client) -> i64 {
    let user: serde_json::Value = http
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", EMAIL),
            ("user[cellphone]", PHONE),
            ("user[country_code]", COUNTRY),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    user["user"]["id"].as_i64().expect("the user is created")
}

/// Starts a server, a device that approves for the shared user, and the library's driver;
/// fails (naming every failed call) unless each call returned what the library expects.
fn drive(
    library: Library,
    server: &common::Server,
    http: reqwest::blocking::Client,
    ca: Option<&Path>,
) {
    let user = shared_user(server, &http);
    let _device = approver::Approver::start(&server.base_url, &server.api_key, http, user);
    let mut command = driver(library, ca);
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .arg(&server.base_url)
        .arg(&server.api_key)
        .arg(server.callback_port.to_string())
        .arg(ca.map_or_else(|| "-".into(), |ca| ca.display().to_string()))
        .args(server.outbox_command())
        .output()
        .unwrap_or_else(|error| {
            panic!("the {library:?} driver cannot start: `{program}`: {error}; install it (see scripts/test)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    let failures: Vec<&str> = stdout.lines().filter(|l| l.contains(" FAILED")).collect();
    assert!(
        failures.is_empty(),
        "{library:?}: {} call(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // A driver that died before its summary line failed too, whatever it printed so far.
    assert!(
        output.status.success() && stdout.contains(" 0 failed"),
        "the {library:?} driver ended with {} before its summary; stderr ends with:\n{}",
        output.status,
        tail(&stderr, 3000)
    );
}

/// The last `max` bytes of `text` or a little fewer, cut at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

fn over_http(library: Library) {
    let server = common::Server::start(&common::Options {
        callback: true,
        ..Default::default()
    });
    drive(library, &server, server.client(), None);
}

/// The server speaks HTTPS with a certificate from a test CA, which each library is told to
/// trust the way its users would (a CA bundle, an extra CA file, a truststore).
fn over_tls(library: Library) {
    let server = common::Server::start(&common::Options {
        callback: true,
        tls: true,
        ..Default::default()
    });
    drive(library, &server, server.client(), server.ca_cert.as_deref());
}

/// The app's callbacks switched to GET (Authy's other callback method): the parameters arrive
/// in the query, and the libraries that validate GET callbacks (Python, Java) check them.
fn with_get_callbacks(library: Library) {
    let mut server = common::Server::start(&common::Options {
        callback: true,
        ..Default::default()
    });
    // Changed while the server is stopped, as an operator would: a running SQLite server may
    // hold the write lock the command needs, and settings are read at start-up.
    server.stop();
    let app = server.app_id.to_string();
    let update = server
        .command()
        .args(["app", "update", "--id", &app, "--callback-method", "GET"])
        .output()
        .unwrap();
    assert!(
        update.status.success(),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    server.start_again();
    drive(library, &server, server.client(), None);
}

#[test]
fn python_authy_over_http() {
    over_http(Library::Python);
}

#[test]
fn java_authy_over_http() {
    over_http(Library::Java);
}

#[test]
fn node_authy_and_authy_client_over_http() {
    over_http(Library::Node);
}

#[test]
fn python_authy_over_tls() {
    over_tls(Library::Python);
}

#[test]
fn java_authy_over_tls() {
    over_tls(Library::Java);
}

#[test]
fn node_authy_and_authy_client_over_tls() {
    over_tls(Library::Node);
}

#[test]
fn python_authy_with_get_callbacks() {
    with_get_callbacks(Library::Python);
}

#[test]
fn java_authy_with_get_callbacks() {
    with_get_callbacks(Library::Java);
}
