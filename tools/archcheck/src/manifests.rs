//! Manifest rules: every crate takes the workspace lints, and names its dependencies with
//! `workspace = true`, so a version is written once (root `[workspace.dependencies]`) and
//! cannot drift between crates.

use crate::Violation;

const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// Checks one member's `Cargo.toml` text; `place` names it in the violations.
pub fn check_manifest(place: &str, text: &str) -> Vec<Violation> {
    let manifest: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            return vec![Violation::new(
                "manifest",
                place,
                format!("unreadable: {e}"),
            )];
        }
    };
    let mut violations = Vec::new();
    let inherits_lints = manifest
        .get("lints")
        .and_then(|lints| lints.get("workspace"))
        .and_then(toml::Value::as_bool)
        == Some(true);
    if !inherits_lints {
        violations.push(Violation::new(
            "manifest",
            place,
            "lacks `[lints] workspace = true`",
        ));
    }
    let mut tables: Vec<(&str, &toml::Table)> = DEPENDENCY_TABLES
        .iter()
        .filter_map(|name| Some((*name, manifest.get(*name)?.as_table()?)))
        .collect();
    // `[target.'cfg(…)'.dependencies]` tables count too.
    for target in manifest
        .get("target")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|t| t.values())
    {
        for name in DEPENDENCY_TABLES {
            if let Some(table) = target.get(name).and_then(toml::Value::as_table) {
                tables.push((name, table));
            }
        }
    }
    for (table_name, table) in tables {
        for (dependency, spec) in table {
            let inherited = spec.get("workspace").and_then(toml::Value::as_bool) == Some(true);
            if !inherited {
                violations.push(Violation::new(
                    "manifest",
                    place,
                    format!("[{table_name}] {dependency} does not use `workspace = true`"),
                ));
            }
        }
    }
    violations
}
