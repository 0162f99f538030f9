//! Whether the database takes writes, known to every request without asking it.
//!
//! A background probe writes one row every half second, with a deadline. While it fails (a
//! stopped or frozen PostgreSQL, a full or read-only SQLite file), API requests are answered
//! at once with 503 (`error_code` 60000) instead of each waiting for its own time-out, and
//! `/healthz` says so; the first successful probe lets traffic in again, with no operator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::db::Db;
use crate::clock::now;

/// How often the database is probed.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Health {
    writable: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            writable: AtomicBool::new(true),
        }
    }
}

impl Health {
    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    /// Probes now and records the result.
    pub async fn probe(&self, db: &Db) -> Result<(), sqlx::Error> {
        let result = db.probe_write(now()).await;
        let ok = result.is_ok();
        if self.writable.swap(ok, Ordering::AcqRel) != ok {
            match &result {
                Ok(()) => tracing::warn!("the database takes writes again"),
                Err(e) => tracing::error!(error = %e, "the database does not take writes"),
            }
        }
        result
    }
}
