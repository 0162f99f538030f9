//! One HTTP delivery of a callback: signed with the app's API key (`X-Authy-Signature`, see
//! `crate::signature`), POST JSON or GET with the parameters in the query, within
//! [`super::HTTP_TIMEOUT`].

use serde_json::Value;
use zeroize::Zeroizing;

use super::{HTTP_TIMEOUT, SEND_MARGIN};
use crate::signature;
use crate::state::AppState;
use crate::store::callback_queue::Leased;

/// Why an attempt did not count as delivered (logged; never the URL, key or body).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    #[error("the endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the endpoint did not answer within the timeout")]
    Timeout,
    #[error("the request failed (connection or protocol error)")]
    Request,
    #[error("the app's API key is unavailable: {0}")]
    Key(String),
}

/// `seconds.micros` of the send time, as Authy's nonces.
fn nonce() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", now.as_secs(), now.subsec_micros())
}

async fn api_key(state: &AppState, app_id: i64) -> Result<Zeroizing<String>, SendError> {
    let sealed = crate::store::apps::sealed_key(&state.db, app_id)
        .await
        .map_err(|e| SendError::Key(e.to_string()))?
        .ok_or_else(|| SendError::Key("the app no longer exists".into()))?;
    let key = state
        .master
        .open(&format!("apps.api_key:{app_id}"), &sealed)
        .map_err(|e| SendError::Key(e.to_string()))?;
    let text = std::str::from_utf8(&key).map_err(|_| SendError::Key("not UTF-8".into()))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Sends the callback once; `Ok` when the endpoint answered 2xx.
pub async fn send(state: &AppState, callback: &Leased, body: &Value) -> Result<(), SendError> {
    let api_key = api_key(state, callback.app_id).await?;
    let nonce = nonce();
    let method = callback.method.to_ascii_uppercase();
    let url = &callback.url;
    let signature = signature::sign(&api_key, &nonce, &method, url, body);
    let request = if method == "GET" {
        let separator = if url.contains('?') { "&" } else { "?" };
        let query = signature::canonical_params(body);
        state.http.get(format!("{url}{separator}{query}"))
    } else {
        state.http.post(url).json(body)
    };
    let sent = request
        .header("X-Authy-Signature", signature)
        .header("X-Authy-Signature-Nonce", &nonce)
        .timeout(HTTP_TIMEOUT)
        .send();
    // reqwest's own timeout covers the exchange; this one also bounds anything around it.
    match tokio::time::timeout(HTTP_TIMEOUT + SEND_MARGIN, sent).await {
        Err(_) => Err(SendError::Timeout),
        Ok(Err(e)) if e.is_timeout() => Err(SendError::Timeout),
        Ok(Err(_)) => Err(SendError::Request),
        Ok(Ok(response)) if response.status().is_success() => Ok(()),
        Ok(Ok(response)) => Err(SendError::Status(response.status().as_u16())),
    }
}
