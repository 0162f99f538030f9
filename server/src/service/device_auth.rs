//! Authenticating a device API request (docs/device-protocol.md): signed by the device key
//! over the method, path, timestamp, nonce and body; fresh within [`TIMESTAMP_WINDOW`]; its
//! nonce never seen before.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol as device;

use crate::error::{DeviceError, Refusal};
use crate::state::{AppState, now};
use crate::store::{devices, nonces};

/// Largest difference accepted between a request's timestamp and the server clock.
pub const TIMESTAMP_WINDOW: i64 = 300;

/// The signed request as received: the four `x-countersign-*` headers (trimmed, at most
/// 256 bytes each, `None` when absent or empty) and what was signed.
pub struct SignedRequest<'a> {
    pub device: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub method: &'a str,
    /// Path and query, as sent.
    pub path: &'a str,
    pub body: &'a [u8],
}

pub struct AuthenticatedDevice {
    pub id: i64,
    pub user_id: i64,
    pub public_key: Vec<u8>,
}

/// The device id, timestamp, nonce and signature of a well-formed request.
fn headers<'a>(request: &SignedRequest<'a>) -> Result<(i64, i64, &'a str, &'a str), DeviceError> {
    let (Some(device_id), Some(timestamp), Some(nonce), Some(signature)) = (
        request.device,
        request.timestamp,
        request.nonce,
        request.signature,
    ) else {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "invalid_request",
            "The device headers are missing.",
        );
    };
    let (Ok(device_id), Ok(timestamp)) = (device_id.parse::<i64>(), timestamp.parse::<i64>())
    else {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "invalid_request",
            "Malformed device headers.",
        );
    };
    Ok((device_id, timestamp, nonce, signature))
}

/// Checks a device request's signature, freshness and uniqueness.
pub async fn authenticate(
    state: &AppState,
    request: &SignedRequest<'_>,
) -> Result<AuthenticatedDevice, DeviceError> {
    let (device_id, timestamp, nonce, signature) = headers(request)?;
    let stored = devices::key(&state.db, device_id)
        .await
        .map_err(|e| DeviceError::unavailable("device authentication", &e))?;
    // An unknown id, a bad key and a bad signature get one answer, so that a caller without
    // the device's key learns nothing about which ids exist or were revoked.
    let not_verified = || {
        DeviceError::refuse(
            Refusal::Unauthorized,
            "invalid_signature",
            "The request signature does not verify.",
        )
    };
    let Some(public_key) = stored
        .as_ref()
        .and_then(|d| URL_SAFE_NO_PAD.decode(&d.public_key).ok())
    else {
        return not_verified();
    };
    let signed_at = u64::try_from(timestamp).unwrap_or(0);
    let message =
        device::request_string(request.method, request.path, signed_at, nonce, request.body);
    let signed = URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|raw| device::verify_es256(&public_key, message.as_bytes(), &raw));
    let Some(stored) = stored.filter(|_| signed) else {
        return not_verified();
    };
    // Only the holder of the key is told that its device was revoked.
    if stored.revoked {
        return DeviceError::refuse(
            Refusal::Forbidden,
            "revoked_device",
            "This device was revoked.",
        );
    }
    check_fresh(state, device_id, timestamp, nonce).await?;
    Ok(AuthenticatedDevice {
        id: device_id,
        user_id: stored.user_id,
        public_key,
    })
}

/// Refuses a stale timestamp or a nonce already seen; remembers the nonce for as long as its
/// timestamp could be accepted, and when the device was last seen.
async fn check_fresh(
    state: &AppState,
    device_id: i64,
    timestamp: i64,
    nonce: &str,
) -> Result<(), DeviceError> {
    let time = now();
    if (timestamp - time).abs() > TIMESTAMP_WINDOW {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "stale_request",
            "The request timestamp is outside the accepted window.",
        );
    }
    if !nonces::remember(&state.db, device_id, nonce, time + 2 * TIMESTAMP_WINDOW).await {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "replayed_request",
            "This request was already received.",
        );
    }
    devices::touch(&state.db, device_id, time).await;
    Ok(())
}
