//! Every SQL statement of the server, one file per area (see docs/architecture.md).

pub mod approval_outcomes;
pub mod outbox;
pub mod push_targets;
