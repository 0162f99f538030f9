//! Crate-level rules: the edges between workspace crates (from `cargo metadata`) against
//! `rules::CRATE_EDGES`, and the third-party crates each crate reaches (from `cargo tree`)
//! against `rules::FORBIDDEN`.

use serde_json::Value;

use crate::rules::{CRATE_EDGES, FORBIDDEN};
use crate::{CheckError, Violation};

/// A dependency of one workspace crate on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// "normal", "dev" or "build".
    pub kind: String,
}

/// A workspace crate: its name and the path of its `Cargo.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub manifest: String,
}

/// The workspace's crates and the edges between them.
#[derive(Debug, Default)]
pub struct Graph {
    pub members: Vec<Member>,
    pub edges: Vec<Edge>,
}

/// The crate graph from the JSON of `cargo metadata --format-version 1 --no-deps`.
pub fn member_edges(metadata: &Value) -> Result<Graph, CheckError> {
    let format = |reason: &str| CheckError::Format {
        what: "cargo metadata".into(),
        reason: reason.into(),
    };
    let packages = metadata["packages"]
        .as_array()
        .ok_or_else(|| format("no packages"))?;
    let mut graph = Graph::default();
    for package in packages {
        let name = package["name"]
            .as_str()
            .ok_or_else(|| format("a package without a name"))?;
        let manifest = package["manifest_path"].as_str().unwrap_or_default();
        graph.members.push(Member {
            name: name.to_owned(),
            manifest: manifest.to_owned(),
        });
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            // Workspace crates are path dependencies; registry crates have no path.
            if dependency["path"].is_null() {
                continue;
            }
            graph.edges.push(Edge {
                from: name.to_owned(),
                to: dependency["name"].as_str().unwrap_or_default().to_owned(),
                kind: dependency["kind"].as_str().unwrap_or("normal").to_owned(),
            });
        }
    }
    Ok(graph)
}

/// Every crate must be in the table, and every edge allowed by it.
pub fn check_edges(graph: &Graph) -> Vec<Violation> {
    let allowed = |name: &str| {
        CRATE_EDGES
            .iter()
            .find(|(crate_name, _)| *crate_name == name)
    };
    let mut violations = Vec::new();
    for member in &graph.members {
        if allowed(&member.name).is_none() {
            violations.push(Violation::new(
                "crate-edges",
                member.name.clone(),
                "a crate the architecture does not list (add it to rules::CRATE_EDGES)",
            ));
        }
    }
    for edge in &graph.edges {
        let Some((_, targets)) = allowed(&edge.from) else {
            continue;
        };
        if !targets.contains(&edge.to.as_str()) {
            violations.push(Violation::new(
                "crate-edges",
                edge.from.clone(),
                format!("may not depend on {} ({} dependency)", edge.to, edge.kind),
            ));
        }
    }
    violations
}

/// The crate names in the output of `cargo tree --prefix none --format {p}` (one package per
/// line: `name vX.Y.Z (source)`, repeated packages marked `(*)`).
pub fn tree_crates(tree: &str) -> Vec<String> {
    let mut names: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The forbidden crates that `package` reaches, given the crates `cargo tree -p package` lists.
pub fn check_reach(package: &str, reached: &[String]) -> Vec<Violation> {
    FORBIDDEN
        .iter()
        .filter(|rule| rule.package == package)
        .flat_map(|rule| {
            rule.crates
                .iter()
                .filter(|name| reached.iter().any(|r| r == *name))
                .map(move |name| {
                    Violation::new(
                        "forbidden-crate",
                        package.to_owned(),
                        format!("reaches {name}: {}", rule.why),
                    )
                })
        })
        .collect()
}
