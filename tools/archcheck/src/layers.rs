//! The server's layers (`rules::SERVER_LAYERS`): `axum` only in `http/` (and the wiring in
//! `run`/`main`), SQL only in `store/`, the forbidden directions between layers, and no import
//! cycle between any two top-level modules.

use std::collections::{BTreeMap, BTreeSet};

use crate::Violation;
use crate::rules::SERVER_LAYERS;
use crate::sources::FileFacts;

/// One file of `server/src`: its path (for messages), its top-level module, its facts.
pub struct ServerFile {
    pub path: String,
    pub module: String,
    pub facts: FileFacts,
}

/// The top-level module of a file, from its path relative to `server/src`:
/// `http/routes.rs` → `http`, `store.rs` → `store`, `lib.rs` → `lib`.
pub fn top_module(relative: &str) -> String {
    let first = relative.split('/').next().unwrap_or(relative);
    first.strip_suffix(".rs").unwrap_or(first).to_owned()
}

pub fn check(files: &[ServerFile]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for file in files {
        let place = |line: usize| format!("server/src/{}:{line}", file.path);
        if !SERVER_LAYERS.axum_allowed.contains(&file.module.as_str()) {
            for line in &file.facts.axum {
                violations.push(Violation::new(
                    "layers",
                    place(*line),
                    "names axum below http/",
                ));
            }
        }
        if !SERVER_LAYERS.sql_allowed.contains(&file.module.as_str()) {
            for line in &file.facts.sql {
                violations.push(Violation::new("layers", place(*line), "SQL outside store/"));
            }
        }
        let forbidden = SERVER_LAYERS
            .must_not_import
            .iter()
            .find(|(module, _)| *module == file.module)
            .map_or(&[][..], |(_, targets)| *targets);
        for (target, line) in &file.facts.module_refs {
            if forbidden.contains(&target.as_str()) {
                violations.push(Violation::new(
                    "layers",
                    place(*line),
                    format!("{} may not import {target}", file.module),
                ));
            }
        }
    }
    violations.extend(cycles(files));
    violations
}

/// Import cycles between top-level modules (the crate root, which only declares them, is
/// not a module of the graph).
fn cycles(files: &[ServerFile]) -> Vec<Violation> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for file in files.iter().filter(|f| f.module != "lib") {
        let targets = graph.entry(file.module.as_str()).or_default();
        for (target, _) in &file.facts.module_refs {
            if *target != file.module {
                targets.insert(target.as_str());
            }
        }
    }
    strongly_connected(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            Violation::new(
                "layers",
                "server/src",
                format!("import cycle between modules: {}", component.join(" ⇄ ")),
            )
        })
        .collect()
}

/// Tarjan's strongly connected components; each component's names sorted.
fn strongly_connected(graph: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<Vec<String>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<String>>,
    }
    fn visit<'a>(node: &'a str, graph: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let next = s.index.len();
        s.index.insert(node, next);
        s.low.insert(node, next);
        s.stack.push(node);
        s.on_stack.insert(node);
        for &target in graph.get(node).into_iter().flatten() {
            if !s.index.contains_key(target) {
                visit(target, graph, s);
                let low = s.low[node].min(s.low[target]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(target) {
                let low = s.low[node].min(s.index[target]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(member) = s.stack.pop() {
                s.on_stack.remove(member);
                component.push(member.to_owned());
                if member == node {
                    break;
                }
            }
            component.sort();
            s.components.push(component);
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(node, graph, &mut state);
        }
    }
    state.components
}
