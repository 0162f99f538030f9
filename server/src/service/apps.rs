//! Apps: creating one (the API key is shown once; only its hash and a sealed copy are
//! stored) and finding the app an API key belongs to, through a short-lived cache.

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
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let api_key: String = (0..32)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect();
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

/// The app whose API key this is.
pub async fn for_key(state: &AppState, key: &str) -> Result<App, ApiError> {
    let hash = hash_api_key(key);
    if let Ok(cache) = state.keys.lock()
        && let Some((app, at)) = cache.get(&hash)
        && at.elapsed() < KEY_CACHE_TTL
    {
        return Ok(app.clone());
    }
    let app = apps::by_key_hash(&state.db, &hash)
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
    Ok(())
}
