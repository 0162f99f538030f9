//! Runs every rule over the workspace on disk: asks cargo for the crate graph, reads each
//! crate's manifest and sources, and collects the violations.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::layers::{self, ServerFile};
use crate::rules::{FORBIDDEN, OPEN_ERROR_CRATES};
use crate::{CheckError, Violation, crates, manifests, sources};

/// The crate that names the patterns it looks for, so the encoder rule would find itself.
const CHECKER: &str = "countersign-archcheck";

fn cargo(args: &[&str], root: &Path) -> Result<String, CheckError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let command = format!("cargo {}", args.join(" "));
    let output = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| CheckError::Command {
            command: command.clone(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(CheckError::Command {
            command,
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| CheckError::Command {
        command,
        reason: e.to_string(),
    })
}

/// `cargo metadata` of the workspace around `dir` (members only).
pub fn metadata(dir: &Path) -> Result<Value, CheckError> {
    let json = cargo(
        &["metadata", "--format-version", "1", "--no-deps", "--locked"],
        dir,
    )?;
    serde_json::from_str(&json).map_err(|e| CheckError::Format {
        what: "cargo metadata".into(),
        reason: e.to_string(),
    })
}

/// Every rule, over the workspace that contains `dir`.
pub fn check(dir: &Path) -> Result<Vec<Violation>, CheckError> {
    let metadata = metadata(dir)?;
    let root = PathBuf::from(metadata["workspace_root"].as_str().unwrap_or("."));
    let graph = crates::member_edges(&metadata)?;
    let mut violations = crates::check_edges(&graph);
    for member in &graph.members {
        let manifest = Path::new(&member.manifest);
        let text = read(manifest)?;
        violations.extend(manifests::check_manifest(&relative(&root, manifest), &text));
        let crate_dir = manifest.parent().unwrap_or(&root);
        violations.extend(check_sources(&root, &member.name, crate_dir)?);
    }
    let is_member = |package: &str| graph.members.iter().any(|m| m.name == package);
    for rule in FORBIDDEN.iter().filter(|rule| is_member(rule.package)) {
        let tree = cargo(
            &[
                "tree",
                "--locked",
                "-p",
                rule.package,
                "-e",
                "normal,build,dev",
                "--prefix",
                "none",
                "--format",
                "{p}",
            ],
            &root,
        )?;
        violations.extend(crates::check_reach(
            rule.package,
            &crates::tree_crates(&tree),
        ));
    }
    Ok(violations)
}

/// The source rules for one crate (its `src/` and `benches/`): function length and hand
/// encoders everywhere, open error enums where `OPEN_ERROR_CRATES` says, and the layers in
/// the server's `src/`.
fn check_sources(root: &Path, name: &str, crate_dir: &Path) -> Result<Vec<Violation>, CheckError> {
    let crate_path = relative(root, crate_dir);
    let open_errors = OPEN_ERROR_CRATES.contains(&crate_path.as_str());
    let src = crate_dir.join("src");
    let mut violations = Vec::new();
    let mut server_files = Vec::new();
    // Benchmarks ship no code but are read and changed like it: the same rules, but no layers.
    let mut files = rust_files(&src)?;
    files.extend(rust_files(&crate_dir.join("benches"))?);
    for file in files {
        let path = relative(root, &file);
        let alias = name.replace('-', "_");
        let facts =
            sources::facts(&read(&file)?, Some(&alias)).map_err(|reason| CheckError::Parse {
                path: path.clone(),
                reason,
            })?;
        for (function, line, length) in &facts.long_functions {
            violations.push(Violation::new(
                "function-length",
                format!("{path}:{line}"),
                format!(
                    "fn {function} is {length} lines (at most {})",
                    crate::rules::MAX_FUNCTION_LINES
                ),
            ));
        }
        if name != CHECKER {
            for line in &facts.hand_encoders {
                violations.push(Violation::new(
                    "hand-encoder",
                    format!("{path}:{line}"),
                    "hex or base64 written by hand (use data-encoding or base64)",
                ));
            }
        }
        if open_errors {
            for (error, line) in &facts.exhaustive_errors {
                violations.push(Violation::new(
                    "open-errors",
                    format!("{path}:{line}"),
                    format!("pub enum {error} lacks #[non_exhaustive]"),
                ));
            }
        }
        if name == "countersign-server" && file.starts_with(&src) {
            let within_src = relative(&src, &file);
            server_files.push(ServerFile {
                module: layers::top_module(&within_src),
                path: within_src,
                facts,
            });
        }
    }
    violations.extend(layers::check(&server_files));
    Ok(violations)
}

fn read(path: &Path) -> Result<String, CheckError> {
    std::fs::read_to_string(path).map_err(|source| CheckError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The `.rs` files under `dir`, sorted (none if it does not exist).
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .map_err(|source| CheckError::Read {
                    path: dir.display().to_string(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
