//! Console sessions: a 256-bit random id in the operator's cookie, only its SHA-256 in the
//! database. A session begins `pending` after the password (five minutes to give the second
//! factor), then gets a new id as `active`; it ends when idle for the configured time, after
//! eight hours in any case, or at logout (deleted, so a replayed cookie finds nothing).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ServerError;
use crate::state::{AppState, now};
use crate::store::console_sessions::{self as stored, ACTIVE, NewSession, PENDING};
use crate::store::operators::{self, Operator};

pub use crate::store::console_sessions::Session;

/// Longest life of any session, however busy.
pub const ABSOLUTE_SECONDS: i64 = 8 * 3600;
/// Time to give the second factor after the password.
pub const PENDING_SECONDS: i64 = 5 * 60;

/// Which kind of session a page needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Pending,
    Active,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Pending => PENDING,
            Stage::Active => ACTIVE,
        }
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What [`random_id`] makes: 43 base64url characters (32 bytes).
fn well_formed(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Deletes the sessions past their idle or absolute limit (the retention job).
pub async fn sweep(state: &AppState) -> Result<(), ServerError> {
    let (idle_since, born_since) = expiry(state, now());
    stored::delete_expired(&state.db, idle_since, born_since).await?;
    Ok(())
}

/// (last use, start) before which a session of any stage has ended at `now`.
fn expiry(state: &AppState, now: i64) -> (i64, i64) {
    (
        now - state.settings.console_idle_seconds.max(PENDING_SECONDS),
        now - ABSOLUTE_SECONDS,
    )
}

fn id_hash(id: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(id.as_bytes()))
}

/// Starts a session at `stage` for `operator_id`; returns the id for the cookie.
pub async fn start(
    state: &AppState,
    operator_id: i64,
    stage: Stage,
    client: &str,
    approval_uuid: Option<&str>,
) -> Result<String, ServerError> {
    let id = random_id();
    let csrf = random_id();
    let new = NewSession {
        id_hash: &id_hash(&id),
        operator_id,
        stage: stage.name(),
        csrf_token: &csrf,
        approval_uuid,
        client,
        now: now(),
    };
    stored::insert(&state.db, new).await?;
    Ok(id)
}

/// The live session `id` at `stage` and its enabled operator, marked as used now; `None`
/// when there is none (never was, ended, idle too long, too old, wrong stage).
pub async fn find(
    state: &AppState,
    id: &str,
    stage: Stage,
) -> Result<Option<(Session, Operator)>, ServerError> {
    let now = now();
    let (idle, absolute) = match stage {
        Stage::Pending => (PENDING_SECONDS, PENDING_SECONDS),
        Stage::Active => (state.settings.console_idle_seconds, ABSOLUTE_SECONDS),
    };
    if !well_formed(id) {
        // A made-up cookie costs nothing: no statement, no write on the single writer.
        return Ok(None);
    }
    let hash = id_hash(id);
    let touched = stored::touch(
        &state.db,
        &hash,
        stage.name(),
        now,
        now - idle,
        now - absolute,
    );
    // Unknown, at another stage, or past a limit. Past a limit it is gone for good: this
    // one row, by its key (the retention job sweeps the rest).
    let Some(session) = touched.await? else {
        let (idle_since, born_since) = expiry(state, now);
        stored::delete_if_expired(&state.db, &hash, idle_since, born_since).await?;
        return Ok(None);
    };
    let operator = operators::by_id(&state.db, session.operator_id).await?;
    Ok(operator
        .filter(|o| !o.disabled)
        .map(|operator| (session, operator)))
}

/// Ends session `id` (logout, or a pending session that got its second factor); false when
/// it had ended already.
pub async fn end(state: &AppState, id: &str) -> Result<bool, ServerError> {
    Ok(stored::delete(&state.db, &id_hash(id)).await?)
}
