//! What an operator does in the console, each action done and then appended to the audit
//! trail with the operator as actor (`operator:<id>`): the console's pages call these, never
//! the plain `apps` functions, so no console action goes unrecorded. Details hold names and
//! settings and ids, never a key or a code.

use serde_json::{Value, json};

use super::apps;
use super::audit::{self, AuditEvent};
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::apps::AppUpdate;

/// Appends the event; an audit failure is the action's failure (reported to the operator).
async fn record(
    state: &AppState,
    operator_id: i64,
    action: &'static str,
    subject: String,
    details: Value,
) -> Result<(), ServerError> {
    let event = AuditEvent {
        actor: format!("operator:{operator_id}"),
        action,
        subject,
        details,
    };
    audit::record(state, event).await.map_err(|e| {
        tracing::error!(action, error = %e.message, "the audit entry could not be written");
        ServerError::Config("the action was done but its audit entry could not be written".into())
    })
}

/// The callback URL as the trail shows it: origin and path (no user part, no query) and
/// the whole URL's hash.
/// Characters of a callback URL's origin and path kept in an audit entry.
const SHOWN_URL_CHARS: usize = 512;

fn callback_details(url: &str) -> Value {
    use sha2::{Digest, Sha256};
    // Bounded (the hash names the whole URL): the entry must always fit the audit trail.
    let shown: String = reqwest::Url::parse(url)
        .map_or_else(
            |_| String::new(),
            |u| format!("{}{}", u.origin().ascii_serialization(), u.path()),
        )
        .chars()
        .take(SHOWN_URL_CHARS)
        .collect();
    json!({"callback_url": shown, "callback_url_sha256": data_encoding::HEXLOWER.encode(&Sha256::digest(url))})
}

fn update_details(update: &AppUpdate) -> Value {
    let mut details = json!({});
    if let Some(name) = &update.name {
        details["name"] = json!(name);
    }
    if let Some(length) = update.token_length {
        details["token_length"] = json!(length);
    }
    match &update.callback_url {
        Some(Some(url)) if !url.is_empty() => details["callback"] = callback_details(url),
        Some(_) => details["callback"] = Value::Null,
        None => {}
    }
    let fields = [
        (
            "callback_method",
            update.callback_method.as_ref().map(|m| json!(m)),
        ),
        (
            "transactional_totp",
            update.transactional_totp.map(|b| json!(b)),
        ),
        ("number_matching", update.number_matching.map(|b| json!(b))),
        (
            "approval_default_seconds",
            update.approval_default_seconds.map(|s| json!(s)),
        ),
        (
            "approval_max_seconds",
            update.approval_max_seconds.map(|s| json!(s)),
        ),
        ("suspended", update.suspended.map(|b| json!(b))),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            details[name] = value;
        }
    }
    details
}

/// Creates an app; returns its id and API key (shown once).
pub async fn create_app(
    state: &AppState,
    operator_id: i64,
    name: &str,
    token_length: u32,
) -> Result<(i64, String), ServerError> {
    if name.len() > apps::MAX_NAME {
        return Err(ServerError::Config(format!(
            "the app name must be at most {} bytes",
            apps::MAX_NAME
        )));
    }
    let (id, key) = apps::create(state, name, token_length, None, "POST").await?;
    let details = json!({"name": name.trim(), "token_length": token_length});
    record(
        state,
        operator_id,
        "app.create",
        format!("app:{id}"),
        details,
    )
    .await?;
    Ok((id, key))
}

/// Changes app `id` (`action`: `app.rename`, `app.update`, `app.suspend` or `app.resume`).
pub async fn update_app(
    state: &AppState,
    operator_id: i64,
    id: i64,
    action: &'static str,
    update: AppUpdate,
) -> Result<(), ServerError> {
    let details = update_details(&update);
    apps::update(state, id, update).await?;
    record(state, operator_id, action, format!("app:{id}"), details).await
}

/// Gives app `id` a new key (returned); the old one lasts `grace_seconds` more.
pub async fn rotate_app_key(
    state: &AppState,
    operator_id: i64,
    id: i64,
    grace_seconds: i64,
) -> Result<String, ServerError> {
    let key = apps::rotate_key(state, id, grace_seconds).await?;
    let details = json!({"grace_seconds": grace_seconds});
    record(
        state,
        operator_id,
        "app.key_rotate",
        format!("app:{id}"),
        details,
    )
    .await?;
    Ok(key)
}

pub async fn delete_app(state: &AppState, operator_id: i64, id: i64) -> Result<(), ServerError> {
    apps::delete(state, id).await?;
    record(
        state,
        operator_id,
        "app.delete",
        format!("app:{id}"),
        json!({}),
    )
    .await
}

/// An operator signed in (`how`: `totp` or `push`) from `client`.
pub async fn signed_in(
    state: &AppState,
    operator_id: i64,
    how: &'static str,
    client: &str,
) -> Result<(), ServerError> {
    let details = json!({"second_factor": how, "client": client});
    let subject = format!("operator:{operator_id}");
    record(state, operator_id, "operator.sign_in", subject, details).await
}

pub async fn signed_out(state: &AppState, operator_id: i64) -> Result<(), ServerError> {
    let subject = format!("operator:{operator_id}");
    record(state, operator_id, "operator.sign_out", subject, json!({})).await
}
