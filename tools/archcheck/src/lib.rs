//! Countersign's architecture check (docs/architecture.md): the rules of `rules.rs` applied
//! to the workspace as it is — crate edges from `cargo metadata`, what each crate reaches from
//! `cargo tree`, and the server's layers, function lengths, encoders and error enums from the
//! sources (parsed with `syn`, so comments and strings never confuse it).
//!
//! Every check is a pure function over data (metadata JSON, a dependency list, source text), so
//! the tests can feed it the real workspace with one forbidden edge added and watch it fail.

pub mod crates;
pub mod layers;
pub mod manifests;
pub mod rules;
pub mod sources;
pub mod workspace;

use std::fmt;

/// One broken rule, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub place: String,
    pub detail: String,
}

impl Violation {
    pub fn new(rule: &'static str, place: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            rule,
            place: place.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.rule, self.place, self.detail)
    }
}

/// What can stop the check itself from running (as opposed to a rule it finds broken).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("running `{command}`: {reason}")]
    Command { command: String, reason: String },
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid Rust: {reason}")]
    Parse { path: String, reason: String },
    #[error("{what} is not what cargo prints: {reason}")]
    Format { what: String, reason: String },
}
