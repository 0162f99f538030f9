//! Storage: every SQL statement and the schema. The only module that runs `sqlx` queries;
//! it depends on nothing above it (no service, no HTTP, no delivery). Each file owns the
//! statements of one table or one concern.

pub mod activities;
pub mod approval_list;
pub mod approval_outcomes;
pub mod approvals;
pub mod apps;
pub mod audit;
pub mod callback_queue;
pub mod console_sessions;
pub mod counters;
pub mod db;
pub mod deliveries;
pub mod devices;
pub mod health;
pub mod message_log;
pub mod nonces;
pub mod operators;
pub mod outbox;
pub mod phone_verifications;
pub mod push_log;
pub mod push_targets;
pub mod rate_buckets;
pub mod registrations;
pub mod retention;
pub mod schema;
pub mod sent_codes;
pub mod server_keys;
pub mod user_import;
pub mod user_search;
pub mod users;
pub mod verdict_batch;
pub mod verdicts;
pub mod verification_log;
