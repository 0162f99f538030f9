//! Apps: creating one (the API key is shown once; only its hash and a sealed copy are
//! stored) and finding the app an API key belongs to, through a short-lived cache. A
//! suspended app's key is refused with Authy's 60061; the cached app carries the flag, so
//! a suspension or resumption made elsewhere takes effect within the cache's few seconds.

use crate::error::{ApiError, ServerError};
use crate::state::{App, AppState, Inner, now};
use crate::store::apps::{self, NewApp};

/// How long a looked-up key is trusted without reading the database again: a removed key
/// stops working everywhere within this time.
const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Entries kept at most; the cache is emptied when it would grow past this.
const KEY_CACHE_MAX: usize = 10_000;

/// The SHA-256 of an API key, lowercase hex: what the `apps` table stores.
pub fn hash_api_key(key: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(key.as_bytes()))
}

/// A new random API key: 32 letters and digits.
fn new_api_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

/// Creates an app; returns its id and API key.
pub async fn create(
    inner: &Inner,
    name: &str,
    token_length: u32,
    callback_url: Option<String>,
    callback_method: &str,
) -> Result<(i64, String), ServerError> {
    if !(6..=10).contains(&token_length) {
        return Err(ServerError::Config("token length must be 6 to 10".into()));
    }
    if name.trim().is_empty() {
        return Err(ServerError::Config("the app name must not be empty".into()));
    }
    // Stored as the update path stores it (delivery reads it case-blind, so "post" was and
    // is accepted).
    let callback_method = &callback_method.to_ascii_uppercase();
    check_update(&apps::AppUpdate {
        name: Some(name.to_owned()),
        callback_url: Some(callback_url.clone()),
        callback_method: Some(callback_method.clone()),
        ..apps::AppUpdate::default()
    })?;
    let api_key = new_api_key();
    let new = NewApp {
        name: name.trim(),
        api_key_hash: &hash_api_key(&api_key),
        token_length,
        callback_url,
        callback_method,
        created_at: now(),
    };
    // Kept sealed (not only hashed): callbacks are signed with the key itself.
    let seal = |id: i64| {
        inner
            .master
            .seal(&format!("apps.api_key:{id}"), api_key.as_bytes())
    };
    let id = apps::insert(&inner.db, new, seal).await?;
    Ok((id, api_key))
}

/// The app whose API key this is; 403 / `60061` while the app is suspended.
pub async fn for_key(state: &AppState, key: &str) -> Result<App, ApiError> {
    let app = cached_or_stored(state, key).await?;
    if app.suspended {
        return Err(ApiError::application_suspended());
    }
    Ok(app)
}

/// The app whose API key this is, suspended or not, from the cache when fresh.
async fn cached_or_stored(state: &AppState, key: &str) -> Result<App, ApiError> {
    let hash = hash_api_key(key);
    if let Ok(cache) = state.keys.lock()
        && let Some((app, at)) = cache.get(&hash)
        && at.elapsed() < KEY_CACHE_TTL
    {
        return Ok(app.clone());
    }
    let app = apps::by_key_hash(&state.db, &hash, now())
        .await?
        .ok_or_else(ApiError::invalid_api_key)?;
    if let Ok(mut cache) = state.keys.lock() {
        if cache.len() > KEY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (app.clone(), std::time::Instant::now()));
    }
    Ok(app)
}

/// Drops app `id` from this instance's key cache, so a change made here (the console) is
/// seen here at once; other instances see it when their entries expire.
fn forget_cached(inner: &Inner, id: i64) {
    if let Ok(mut cache) = inner.keys.lock() {
        cache.retain(|_, (app, _)| app.id != id);
    }
}

/// Changes an app (the `countersign-server app update` command).
pub async fn update(inner: &Inner, id: i64, update: apps::AppUpdate) -> Result<(), ServerError> {
    check_update(&update)?;
    let update = apps::AppUpdate {
        name: update.name.map(|n| n.trim().to_owned()),
        callback_url: update
            .callback_url
            .map(|url| url.filter(|u| !u.trim().is_empty())),
        ..update
    };
    if !apps::update(&inner.db, id, update).await? {
        return Err(ServerError::Config(format!("no app with id {id}")));
    }
    forget_cached(inner, id);
    Ok(())
}

/// Refuses an update that would leave the app invalid (checked before touching the database).
pub fn check_update(update: &apps::AppUpdate) -> Result<(), ServerError> {
    if update.token_length.is_some_and(|t| !(6..=10).contains(&t)) {
        return Err(ServerError::Config("token length must be 6 to 10".into()));
    }
    if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ServerError::Config("the app name must not be empty".into()));
    }
    if update.name.as_deref().is_some_and(|n| n.len() > MAX_NAME) {
        return Err(ServerError::Config(format!(
            "the app name must be at most {MAX_NAME} bytes"
        )));
    }
    if let Some(method) = update.callback_method.as_deref()
        && method != "GET"
        && method != "POST"
    {
        return Err(ServerError::Config(
            "the callback method must be GET or POST".into(),
        ));
    }
    if let Some(Some(url)) = &update.callback_url
        && url.len() > MAX_CALLBACK_URL
    {
        return Err(ServerError::Config(format!(
            "the callback URL must be at most {MAX_CALLBACK_URL} bytes"
        )));
    }
    if let Some(Some(url)) = &update.callback_url
        && !url.trim().is_empty()
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(ServerError::Config(
            "the callback URL must start with https:// or http://".into(),
        ));
    }
    let seconds = [update.approval_default_seconds, update.approval_max_seconds];
    if seconds
        .iter()
        .flatten()
        .any(|s| !(0..=MAX_APPROVAL_SECONDS).contains(s))
    {
        return Err(ServerError::Config(format!(
            "approval lifetimes must be 0 (the server's setting) to {MAX_APPROVAL_SECONDS} seconds"
        )));
    }
    Ok(())
}

/// The longest callback URL an app may have (browsers' and proxies' common limit).
pub const MAX_CALLBACK_URL: usize = 2_048;
/// The longest app name the console accepts.
pub const MAX_NAME: usize = 200;
/// The longest approval lifetime an app may set (30 days).
pub const MAX_APPROVAL_SECONDS: i64 = 30 * 86_400;
/// The longest grace period a rotated-out key may keep (30 days).
pub const MAX_GRACE_SECONDS: i64 = 30 * 86_400;

/// Every app (the console's list).
pub async fn list(inner: &Inner) -> Result<Vec<App>, ServerError> {
    Ok(apps::list(&inner.db).await?)
}

pub async fn by_id(inner: &Inner, id: i64) -> Result<Option<App>, ServerError> {
    Ok(apps::by_id(&inner.db, id).await?)
}

/// Gives app `id` a new API key (returned, shown once); the old key keeps working for
/// `grace_seconds` more (0: it stops at once; within the key cache's few seconds).
pub async fn rotate_key(inner: &Inner, id: i64, grace_seconds: i64) -> Result<String, ServerError> {
    if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
        return Err(ServerError::Config(format!(
            "the grace period must be 0 to {MAX_GRACE_SECONDS} seconds"
        )));
    }
    let api_key = new_api_key();
    let sealed = inner
        .master
        .seal(&format!("apps.api_key:{id}"), api_key.as_bytes());
    let until = now().saturating_add(grace_seconds);
    if !apps::rotate_key(&inner.db, id, &hash_api_key(&api_key), &sealed, until).await? {
        return Err(ServerError::Config(format!("no app with id {id}")));
    }
    forget_cached(inner, id);
    Ok(api_key)
}

/// Deletes app `id`: its keys stop working (within the key cache's few seconds).
pub async fn delete(inner: &Inner, id: i64) -> Result<(), ServerError> {
    if carries_operator_phones(inner, id).await? {
        return Err(ServerError::Config(CARRIES_OPERATOR_PHONES.into()));
    }
    if !apps::delete(&inner.db, id).await? {
        return Err(ServerError::Config(format!("no app with id {id}")));
    }
    forget_cached(inner, id);
    Ok(())
}

/// Why the console's own app cannot go: deleting it would end every operator's push second
/// factor (their phones are its users), with no way back but the database.
pub const CARRIES_OPERATOR_PHONES: &str = "this application carries the operators' sign-in phones (the console's push second factor); it cannot be deleted";

/// Whether app `id`'s users include an operator's sign-in phone.
pub async fn carries_operator_phones(inner: &Inner, id: i64) -> Result<bool, ServerError> {
    Ok(apps::carries_operator_phones(&inner.db, id).await?)
}
