//! The device API after registration (docs/device-protocol.md): every request is signed by
//! the device key, with a timestamp window and a nonce replay cache; pending approval
//! requests are served as challenges signed by the server key.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol as device;
use serde_json::json;
use sqlx::Row;

use super::devices::{device_error, server_signer};
use super::number_matching::{self, Choices};
use crate::state::{AppState, now};

/// Largest difference accepted between a request's timestamp and the server clock.
pub const TIMESTAMP_WINDOW: i64 = 300;

/// A refused device request: `{"error", "message"}` with its HTTP status.
#[derive(Debug)]
pub struct DeviceError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: &'static str,
}

impl IntoResponse for DeviceError {
    fn into_response(self) -> Response {
        device_error(self.status, self.error, self.message)
    }
}

pub struct AuthenticatedDevice {
    pub id: i64,
    pub user_id: i64,
    pub public_key: Vec<u8>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// Checks a device request's signature, freshness and uniqueness.
pub async fn authenticate(
    state: &AppState,
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AuthenticatedDevice, DeviceError> {
    let bad = |status, error, message| {
        Err(DeviceError {
            status,
            error,
            message,
        })
    };
    let (Some(device_id), Some(timestamp), Some(nonce), Some(signature)) = (
        header(headers, "x-countersign-device"),
        header(headers, "x-countersign-timestamp"),
        header(headers, "x-countersign-nonce"),
        header(headers, "x-countersign-signature"),
    ) else {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "The device headers are missing.",
        );
    };
    let (Ok(device_id), Ok(timestamp)) = (device_id.parse::<i64>(), timestamp.parse::<i64>())
    else {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Malformed device headers.",
        );
    };
    let internal = |e: sqlx::Error| {
        tracing::error!(error = %e, "device authentication");
        DeviceError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "unavailable",
            message: "Try again later.",
        }
    };
    let row = sqlx::query("SELECT user_id, public_key, revoked FROM devices WHERE id = $1")
        .bind(device_id)
        .fetch_optional(&state.db.pool)
        .await
        .map_err(internal)?;
    // An unknown id, a bad key and a bad signature get one answer, so that a caller without
    // the device's key learns nothing about which ids exist or were revoked.
    let not_verified = || {
        bad(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The request signature does not verify.",
        )
    };
    let Some(public_key) = row
        .as_ref()
        .and_then(|r| URL_SAFE_NO_PAD.decode(r.get::<String, _>(1)).ok())
    else {
        return not_verified();
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let message = device::request_string(
        method,
        path,
        u64::try_from(timestamp).unwrap_or(0),
        nonce,
        body,
    );
    let signed = URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|raw| device::verify_es256(&public_key, message.as_bytes(), &raw));
    let Some(row) = row.filter(|_| signed) else {
        return not_verified();
    };
    // Only the holder of the key is told that its device was revoked.
    if row.get::<i64, _>(2) != 0 {
        return bad(
            StatusCode::FORBIDDEN,
            "revoked_device",
            "This device was revoked.",
        );
    }
    let time = now();
    if (timestamp - time).abs() > TIMESTAMP_WINDOW {
        return bad(
            StatusCode::UNAUTHORIZED,
            "stale_request",
            "The request timestamp is outside the accepted window.",
        );
    }
    // The nonce is remembered for as long as its timestamp could be accepted.
    let fresh =
        sqlx::query("INSERT INTO device_nonces (device_id, nonce, expires_at) VALUES ($1, $2, $3)")
            .bind(device_id)
            .bind(nonce)
            .bind(time + 2 * TIMESTAMP_WINDOW)
            .execute(&state.db.writer)
            .await;
    if fresh.is_err() {
        return bad(
            StatusCode::UNAUTHORIZED,
            "replayed_request",
            "This request was already received.",
        );
    }
    let _ = sqlx::query("UPDATE devices SET last_seen = $1 WHERE id = $2")
        .bind(time)
        .bind(device_id)
        .execute(&state.db.writer)
        .await;
    Ok(AuthenticatedDevice {
        id: device_id,
        user_id: row.get(0),
        public_key,
    })
}

/// The stored choices of a number-matching request. A request stored before choices were
/// kept gets them now, once: the conditional update lets only the first fetch write them.
async fn number_choices(
    state: &AppState,
    uuid: &str,
    number: i64,
    stored: &str,
) -> Result<[i64; 3], String> {
    if let Some(choices) = Choices::parse(number, stored) {
        return Ok(choices.shown);
    }
    sqlx::query(
        "UPDATE approval_requests SET number_choices = $1 WHERE uuid = $2 AND number_choices = $3",
    )
    .bind(number_matching::around(number).to_json())
    .bind(uuid)
    .bind(stored)
    .execute(&state.db.writer)
    .await
    .map_err(|e| e.to_string())?;
    let row = sqlx::query("SELECT number_choices FROM approval_requests WHERE uuid = $1")
        .bind(uuid)
        .fetch_one(&state.db.writer)
        .await
        .map_err(|e| e.to_string())?;
    Choices::parse(number, &row.get::<String, _>(0))
        .map(|c| c.shown)
        .ok_or_else(|| "number choices could not be stored".to_owned())
}

fn pairs(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// `GET /device/v1/approval_requests`: the user's pending requests as signed challenges.
pub async fn pending(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let device = match authenticate(&state, "GET", &uri, &headers, &body).await {
        Ok(device) => device,
        Err(refused) => return refused.into_response(),
    };
    let result: Result<Vec<String>, String> = async {
        let signer = server_signer(&state).await.map_err(|e| e.to_string())?;
        let rows = sqlx::query("SELECT uuid, message, details, hidden_details, created_at, expires_at, nonce, number, number_choices FROM approval_requests WHERE user_id = $1 AND status = 'pending' AND (expires_at = 0 OR expires_at > $2) ORDER BY created_at")
            .bind(device.user_id)
            .bind(now())
            .fetch_all(&state.db.pool)
            .await
            .map_err(|e| e.to_string())?;
        let mut challenges = Vec::new();
        for row in rows {
            let details = pairs(&row.get::<String, _>(2));
            let hidden = pairs(&row.get::<String, _>(3));
            let mut payload = json!({
                "v": 1,
                "typ": "payment-approval",
                "uuid": row.get::<String, _>(0),
                "authy_id": device.user_id,
                "message": row.get::<String, _>(1),
                "details": details,
                "hidden_details_sha256": device::hidden_details_sha256(&hidden),
                "created_at": row.get::<i64, _>(4),
                "expires_at": row.get::<i64, _>(5),
                "nonce": row.get::<String, _>(6),
            });
            let number: i64 = row.get(7);
            if number > 0 {
                let choices = number_choices(&state, &row.get::<String, _>(0), number, &row.get::<String, _>(8)).await?;
                payload["number_choices"] = json!(choices);
            }
            let header = json!({"alg": "ES256", "typ": "countersign-challenge+jws", "kid": "server"});
            challenges.push(device::sign_compact(&header, payload.to_string().as_bytes(), &signer).map_err(|e| e.to_string())?);
        }
        Ok(challenges)
    }
    .await;
    match result {
        Ok(challenges) => (
            StatusCode::OK,
            Json(json!({"approval_requests": challenges, "server_time": now()})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serving challenges");
            device_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Try again later.",
            )
        }
    }
}

/// Forgets nonces whose requests could no longer be accepted anyway.
pub async fn prune_nonces(state: &AppState) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device_nonces WHERE expires_at < $1")
        .bind(now())
        .execute(&state.db.writer)
        .await
        .map(|_| ())
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn refuse(status: StatusCode, error: &'static str, message: &'static str) -> Response {
    DeviceError {
        status,
        error,
        message,
    }
    .into_response()
}

/// `POST /device/v1/approval_requests/{uuid}/answer` with `{"answer": JWS}`.
pub async fn answer(
    State(state): State<AppState>,
    axum::extract::Path(uuid): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let device = match authenticate(&state, "POST", &uri, &headers, &body).await {
        Ok(device) => device,
        Err(refused) => return refused.into_response(),
    };
    let Some(jws) = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|b| b.get("answer").and_then(|a| a.as_str().map(str::to_owned)))
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be an object with the answer JWS.",
        );
    };
    let Ok((_, payload)) = device::verify_compact(&jws, &device.public_key) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The answer is not signed by this device.",
        );
    };
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&payload) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The answer's payload is not JSON.",
        );
    };
    let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).unwrap_or("");
    let decision = match text("decision") {
        "approve" => "approved",
        "deny" => "denied",
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "decision must be approve or deny.",
            );
        }
    };
    if payload.get("v").and_then(|v| v.as_i64()) != Some(1)
        || text("typ") != "payment-approval"
        || text("uuid") != uuid
        || payload.get("device_id").and_then(|v| v.as_i64()) != Some(device.id)
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "content_mismatch",
            "The answer is for another request, device or kind of approval.",
        );
    }
    let row = match sqlx::query("SELECT user_id, status, expires_at, message, details, hidden_details, nonce, number FROM approval_requests WHERE uuid = $1").bind(&uuid).fetch_optional(&state.db.pool).await {
        Ok(Some(row)) => row,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "not_found", "No such approval request."),
        Err(e) => {
            tracing::error!(error = %e, "loading an approval request");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Try again later.");
        }
    };
    if row.get::<i64, _>(0) != device.user_id {
        return refuse(
            StatusCode::FORBIDDEN,
            "wrong_user",
            "This request belongs to another user.",
        );
    }
    let expires_at: i64 = row.get(2);
    if expires_at > 0 && expires_at <= now() {
        let _ = crate::delivery::callbacks::expire_due(&state.db).await;
        return refuse(StatusCode::GONE, "expired", "This request has expired.");
    }
    if row.get::<String, _>(1) != "pending" {
        return refuse(
            StatusCode::CONFLICT,
            "not_pending",
            "This request was already answered.",
        );
    }
    let details = pairs(&row.get::<String, _>(4));
    let hidden = pairs(&row.get::<String, _>(5));
    let shown = device::displayed_content(&row.get::<String, _>(3), &details);
    if text("nonce") != row.get::<String, _>(6)
        || text("content_sha256") != hex_sha256(&shown)
        || text("hidden_details_sha256") != device::hidden_details_sha256(&hidden)
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "content_mismatch",
            "The answer was not made for exactly this request's content.",
        );
    }
    let evidence = json!({"jws": jws, "device_id": device.id, "decision": text("decision")});
    let number: i64 = row.get(7);
    if number > 0
        && decision == "approved"
        && payload.get("number").and_then(|n| n.as_i64()) != Some(number)
    {
        // One guess only: a wrong number denies the request, so picking at random cannot win.
        let _ =
            crate::delivery::callbacks::resolve(&state.db, &uuid, "denied", Some(&evidence)).await;
        return refuse(
            StatusCode::BAD_REQUEST,
            "wrong_number",
            "The number chosen is not the one shown; the request is denied.",
        );
    }
    match crate::delivery::callbacks::resolve(&state.db, &uuid, decision, Some(&evidence)).await {
        Ok(true) => (StatusCode::OK, Json(json!({"status": decision}))).into_response(),
        Ok(false) => refuse(
            StatusCode::CONFLICT,
            "not_pending",
            "This request was already answered.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "recording an answer");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Try again later.",
            )
        }
    }
}

/// `POST /device/v1/push_token` with `{"push_token": "…"}` (or `null` to stop pushes).
pub async fn update_push_token(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let device = match authenticate(&state, "POST", &uri, &headers, &body).await {
        Ok(device) => device,
        Err(refused) => return refused.into_response(),
    };
    let token = match serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|b| b.get("push_token").cloned())
    {
        Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(token)) if !token.is_empty() && token.len() <= 4096 => {
            Some(token)
        }
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The body must be {\"push_token\": string or null}.",
            );
        }
    };
    match sqlx::query("UPDATE devices SET push_token = $1 WHERE id = $2")
        .bind(token.as_deref())
        .bind(device.id)
        .execute(&state.db.writer)
        .await
    {
        Ok(_) => (StatusCode::OK, Json(json!({"success": true}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "updating a push token");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Try again later.",
            )
        }
    }
}
