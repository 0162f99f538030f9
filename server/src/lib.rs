//! Countersign server: the Authy REST API, self-hosted. See docs/server-api.md and
//! docs/architecture.md.
//!
//! Layers, each depending only on those below it:
//!
//! ```text
//! main.rs, run.rs   wiring: configuration, start and stop
//! http/             route table → router + OpenAPI; extractors; JSON/XML and QR rendering;
//!                   error → status mapping; thin handlers. The only layer that knows the
//!                   web framework.
//! service/          what the API does: verification, approvals, registration, users,
//!                   phones, stats. Plain inputs in, JSON body or typed error out; no axum,
//!                   no SQL.
//! jobs/             background work: expiry, callback delivery, nonce pruning, statistics
//!                   flushing, the health probe. Uses service and store, never http.
//! delivery/         SMS and voice providers, push providers, callbacks to the bank: providers
//!                   as data, one file and one registration line each. Uses store only.
//! store/            every SQL statement and the schema. Depends on nothing above it.
//! ```
//!
//! Beside them: `state` (what every call receives), `error`, `config`, `clock`, `seal`,
//! `signature`, `proxies` (the client address behind a reverse proxy).

pub mod audit_chain;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod http;
pub mod jobs;
pub mod proxies;
pub mod run;
pub mod seal;
pub mod service;
pub mod signature;
pub mod state;
pub mod store;
