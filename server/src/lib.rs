//! Countersign server: the Authy REST API, self-hosted. See docs/server-api.md.

pub mod api;
pub mod batch;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod health;
pub mod jobs;
pub mod otp;
pub mod params;
pub mod render;
pub mod run;
pub mod seal;
pub mod sent_codes;
pub mod signature;
pub mod state;
pub mod store;
pub mod templates;
