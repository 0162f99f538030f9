//! The audit trail (docs/audit.md): who did what to which app, user or approval request,
//! appended to a hash-chained log signed by the server key, so that a regulator can check no
//! entry was edited, removed or reordered. Operators' actions (the console), CLI admin
//! commands and every approval decision are recorded here; the console reads pages back.

use serde_json::{Value, json};

use super::registration::server_signer;
use crate::audit_chain::{ChainSigner, canonical_json};
use crate::error::{ApiError, ServerError};
use crate::state::{AppState, Inner, now};
use crate::store::audit::{self as stored, Draft, Entry, PageQuery};
use crate::store::db::Db;

/// Longest actor, action or subject accepted, in bytes.
const MAX_NAME: usize = 256;
/// Largest details accepted (canonical JSON), in bytes.
const MAX_DETAILS: usize = 16 * 1024;
/// Most entries one page of [`list`] holds.
pub const MAX_PAGE: i64 = 200;

/// One thing that happened. `details` never holds a secret or a code: hashes and ids only.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// Who: `"operator:<id>"`, `"device:<id>"`, `"app:<id>"`, `"system"` or `"cli"`.
    pub actor: String,
    /// What, e.g. `"app.create"`, `"app.key_rotate"`, `"approval.approved"`.
    pub action: &'static str,
    /// To what: `"app:3"`, `"user:17"`, `"approval:<uuid>"`.
    pub subject: String,
    pub details: Value,
}

impl AuditEvent {
    /// The entry to append, bounded in size.
    pub fn draft(&self, time: i64) -> Result<Draft, ApiError> {
        let details = canonical_json(&self.details);
        if [&self.actor, self.action, &self.subject]
            .iter()
            .any(|name| name.len() > MAX_NAME)
            || details.len() > MAX_DETAILS
        {
            tracing::error!(action = self.action, "audit event too large");
            return Err(ApiError::internal());
        }
        Ok(Draft {
            time,
            actor: self.actor.clone(),
            action: self.action.to_owned(),
            subject: self.subject.clone(),
            details,
        })
    }
}

/// The server key as the audit log's signer.
pub async fn chain_signer(state: &Inner) -> Result<ChainSigner, ServerError> {
    Ok(ChainSigner::new(server_signer(state).await?))
}

/// Appends `event` to the audit log (its own transaction). Takes the `AppState` (or, from
/// the CLI, the bare state it holds).
pub async fn record(state: &Inner, event: AuditEvent) -> Result<(), ApiError> {
    let draft = event.draft(now())?;
    let signer = chain_signer(state).await?;
    stored::append(&state.db, &draft, &signer).await?;
    Ok(())
}

/// What the console's audit page asks for: newest first, `limit` entries (at most
/// [`MAX_PAGE`]) older than `before`, filtered by exact actor and/or subject.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// One page of entries, newest first, and the `before` of the next page (none at the end).
#[derive(Debug)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    pub next_before: Option<i64>,
}

/// A page of the audit log for the console.
pub async fn list(state: &AppState, query: &AuditQuery) -> Result<AuditPage, ApiError> {
    list_in(&state.db, query).await.map_err(ApiError::from)
}

async fn list_in(db: &Db, query: &AuditQuery) -> Result<AuditPage, sqlx::Error> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    let entries = stored::newest_first(
        db,
        &PageQuery {
            actor: non_empty(&query.actor),
            subject: non_empty(&query.subject),
            before: query.before,
            limit,
        },
    )
    .await?;
    let next_before = match entries.last() {
        Some(last) if i64::try_from(entries.len()).ok() == Some(limit) => Some(last.seq),
        _ => None,
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.is_empty())
}

/// An entry as JSON: the export's line format (docs/audit.md).
pub fn entry_json(entry: &Entry) -> Value {
    json!({
        "seq": entry.seq,
        "time": entry.time,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "signature": entry.signature,
    })
}
