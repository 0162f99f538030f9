//! The check fails on a deliberately added forbidden edge: each test takes the real workspace
//! (cargo's metadata, cargo tree's answer, the server's sources), adds one edge the
//! architecture forbids, and expects exactly that edge reported — and small fixtures pin the
//! boundaries of each rule (80 lines pass, 81 fail; `DELETE` the HTTP method is not SQL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::{Path, PathBuf};

use countersign_archcheck::layers::{self, ServerFile};
use countersign_archcheck::{Violation, crates, manifests, sources, workspace};
use serde_json::json;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Violations in `after` that `before` did not have.
fn added(before: &[Violation], after: &[Violation]) -> Vec<Violation> {
    after
        .iter()
        .filter(|v| !before.contains(v))
        .cloned()
        .collect()
}

#[test]
fn a_server_dependency_on_the_app_crate_is_reported() {
    let mut metadata = workspace::metadata(&workspace_root()).unwrap();
    let graph = crates::member_edges(&metadata).unwrap();
    let before = crates::check_edges(&graph);
    assert!(
        graph.members.iter().any(|m| m.name == "countersign-server"),
        "the real metadata lists the server"
    );

    let server = metadata["packages"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "countersign-server")
        .unwrap();
    server["dependencies"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "countersign-app", "path": "/work/core", "kind": null}));
    let after = crates::check_edges(&crates::member_edges(&metadata).unwrap());

    assert_eq!(
        added(&before, &after),
        vec![Violation::new(
            "crate-edges",
            "countersign-server",
            "may not depend on countersign-app (normal dependency)"
        )]
    );
}

#[test]
fn a_crate_missing_from_the_architecture_is_reported() {
    let graph = crates::Graph {
        members: vec![crates::Member {
            name: "countersign-sync".into(),
            manifest: "sync/Cargo.toml".into(),
        }],
        edges: vec![],
    };
    let violations = crates::check_edges(&graph);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].place, "countersign-sync");
}

#[test]
fn a_scanner_reached_by_the_server_is_reported() {
    // csv and argon2 are allowed: the server reads the users an Authy deployment exports and
    // hashes console operators' passwords.
    let tree = "countersign-server v0.1.0 (/work/server)\nargon2 v0.5.3\naxum v0.8.9\ncsv v1.4.0\nserde v1.0.229\nsqlx v0.8.6\n";
    let clean = crates::tree_crates(tree);
    assert!(crates::check_reach("countersign-server", &clean).is_empty());

    let tainted = crates::tree_crates(&format!(
        "{tree}rqrr v0.11.0\nrusqlite v0.32.1 (*)\nprost v0.14.1\n"
    ));
    let details: Vec<String> = crates::check_reach("countersign-server", &tainted)
        .into_iter()
        .map(|v| v.detail)
        .collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[0].starts_with("reaches rqrr"));
    assert!(details[1].starts_with("reaches rusqlite"));
    assert!(details[2].starts_with("reaches prost"));
    // The same crates are fine for the app crate, which scans and keeps the vault.
    assert!(crates::check_reach("countersign-app", &tainted).is_empty());
}

fn real_server_files() -> Vec<ServerFile> {
    let src = workspace_root().join("server/src");
    let mut files = Vec::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).unwrap().display().to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                files.push(ServerFile {
                    module: layers::top_module(&relative),
                    facts: sources::facts(&text, Some("countersign_server")).unwrap(),
                    path: relative,
                });
            }
        }
    }
    assert!(files.len() > 10, "the real server sources were read");
    files
}

fn server_file(path: &str, text: &str) -> ServerFile {
    ServerFile {
        path: path.to_owned(),
        module: layers::top_module(path),
        facts: sources::facts(text, Some("countersign_server")).unwrap(),
    }
}

#[test]
fn axum_sql_and_an_upward_import_in_the_service_layer_are_reported() {
    let mut files = real_server_files();
    let before = layers::check(&files);
    files.push(server_file(
        "service/leak.rs",
        r#"
use axum::Json;
use crate::http::render;

pub async fn count(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await.unwrap_or(0)
}
"#,
    ));
    let mut found: Vec<String> = added(&before, &layers::check(&files))
        .into_iter()
        .map(|v| format!("{} {}", v.place, v.detail))
        .collect();
    found.sort();
    found.retain(|f| !f.contains("import cycle"));
    assert_eq!(
        found,
        vec![
            "server/src/service/leak.rs:2 names axum below http/",
            "server/src/service/leak.rs:3 service may not import http",
            "server/src/service/leak.rs:6 SQL outside store/",
            "server/src/service/leak.rs:6 SQL outside store/",
        ]
    );
}

#[test]
fn an_import_cycle_between_modules_is_reported() {
    let files = vec![
        server_file("users.rs", "use crate::stats::Counter;\npub struct User;"),
        server_file(
            "stats.rs",
            "pub struct Counter;\nfn f() { let _ = crate::users::User; }",
        ),
        server_file("config.rs", "use crate::users::User;"),
    ];
    let violations = layers::check(&files);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0].detail,
        "import cycle between modules: stats ⇄ users"
    );
    let acyclic = &files[..1];
    assert!(layers::check(acyclic).is_empty());
}

#[test]
fn the_store_importing_a_layer_above_it_is_reported() {
    let files = vec![server_file(
        "store/users.rs",
        "use crate::service::verification::Verdict;\nconst Q: &str = \"SELECT 1\";",
    )];
    let details: Vec<String> = layers::check(&files)
        .into_iter()
        .map(|v| v.detail)
        .collect();
    assert_eq!(details, vec!["store may not import service"]);
}

fn body(lines: usize) -> String {
    (0..lines.saturating_sub(2))
        .map(|i| format!("    let _x{i} = {i};\n"))
        .collect()
}

#[test]
fn a_function_of_81_lines_is_too_long_and_80_is_not() {
    let text = format!(
        "fn fits() {{\n{}}}\n\nimpl S {{\n    fn too_long(&self) {{\n{}    }}\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn long_test_helper() {{\n{}    }}\n}}\n\n#[test]\nfn long_test() {{\n{}}}\n",
        body(80),
        body(81),
        body(200),
        body(200)
    );
    let facts = sources::facts(&text, None).unwrap();
    assert_eq!(facts.long_functions, vec![("too_long".to_owned(), 83, 81)]);
}

#[test]
fn hand_written_hex_and_base64_are_found_even_inside_macros() {
    let text = r#"
fn hex(bytes: &[u8]) -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() }
const TABLE: &[u8; 16] = b"0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
fn fine(n: u8) -> String { format!("{n:02}") }
"#;
    let facts = sources::facts(text, None).unwrap();
    assert_eq!(facts.hand_encoders, vec![2, 3, 4]);
}

#[test]
fn sql_is_told_apart_from_words_that_look_like_it() {
    for sql in [
        "SELECT id FROM users",
        "  INSERT INTO users (id) VALUES (?)",
        "UPDATE users SET locked_until = NULL",
        "DELETE FROM nonces WHERE expires_at < ?",
        "CREATE TABLE IF NOT EXISTS apps (id INTEGER)",
        "ROLLBACK",
        "WITH due AS (SELECT 1) SELECT * FROM due",
    ] {
        assert!(sources::looks_like_sql(sql), "{sql}");
    }
    for word in [
        "DELETE",
        "UPDATE",
        "SELECTION",
        "Begin the approval",
        "WITH love",
    ] {
        assert!(!sources::looks_like_sql(word), "{word}");
    }
}

#[test]
fn public_error_enums_must_be_open() {
    let text = "#[non_exhaustive]\npub enum OpenError { A }\npub enum ClosedError { A }\nenum PrivateError { A }\npub enum Kind { A }\n";
    let facts = sources::facts(text, None).unwrap();
    assert_eq!(facts.exhaustive_errors, vec![("ClosedError".to_owned(), 3)]);
}

#[test]
fn a_version_outside_the_workspace_table_and_missing_lints_are_reported() {
    let manifest = r#"
[package]
name = "x"

[dependencies]
serde.workspace = true
tokio = { workspace = true, features = ["rt"] }
rand = "0.9"

[target.'cfg(unix)'.dev-dependencies]
libc = { version = "0.2" }
"#;
    let details: Vec<String> = manifests::check_manifest("x/Cargo.toml", manifest)
        .into_iter()
        .map(|v| v.detail)
        .collect();
    assert_eq!(
        details,
        vec![
            "lacks `[lints] workspace = true`",
            "[dependencies] rand does not use `workspace = true`",
            "[dev-dependencies] libc does not use `workspace = true`",
        ]
    );
}
