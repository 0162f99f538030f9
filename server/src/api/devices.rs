//! Device registration (docs/device-protocol.md): the bank's backend asks for a one-time
//! registration; the phone registers its ES256 key with it; the bank lists and revokes
//! devices. Registered devices make `sms` and `call` answer "ignored" unless forced.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::users;
use crate::error::{ApiError, ServerError};
use crate::state::{AppState, Call, now};

/// How long a registration code stays usable.
pub const REGISTRATION_TTL: i64 = 600;

fn code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    Sha256::digest(normalized.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The server's ES256 key, created by the first instance that needs it.
pub async fn server_signer(state: &AppState) -> Result<SoftwareSigner, ServerError> {
    if let Some(row) = sqlx::query("SELECT secret_sealed FROM server_keys WHERE id = 1")
        .fetch_optional(&state.db.pool)
        .await?
    {
        let secret = state
            .master
            .open("server_keys.secret:1", &row.get::<String, _>(0))?;
        return SoftwareSigner::from_secret(&secret).ok_or(ServerError::Sealed);
    }
    let signer = SoftwareSigner::generate();
    let sealed = state.master.seal("server_keys.secret:1", &signer.secret());
    // Several instances may race here: the first insert wins and everyone reads it back.
    let _ =
        sqlx::query("INSERT INTO server_keys (id, secret_sealed, created_at) VALUES (1, $1, $2)")
            .bind(sealed)
            .bind(now())
            .execute(&state.db.writer)
            .await;
    Box::pin(server_signer(state)).await
}

pub async fn create_registration(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = users::load(&state, call.app.id, &id).await?;
        let code = countersign_otp::Secret::generate(16).to_base32();
        sqlx::query("INSERT INTO registrations (code_hash, app_id, user_id, expires_at, used) VALUES ($1, $2, $3, $4, 0)")
            .bind(code_hash(&code))
            .bind(call.app.id)
            .bind(user.id)
            .bind(now() + REGISTRATION_TTL)
            .execute(&state.db.writer)
            .await?;
        let uri = countersign_protocol::RegistrationLink {
            server_url: state.settings.public_url.clone(),
            code: code.clone(),
        }
        .to_uri();
        let qr_code = super::tokens::qr_data_url(&uri, 256)?;
        Ok((
            StatusCode::OK,
            json!({
                "registration": {"code": code, "uri": uri, "expires_in": REGISTRATION_TTL},
                "qr_code": qr_code,
                "success": true,
            }),
        ))
    }
    .await;
    call.answer(result)
}

pub async fn list(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = users::load(&state, call.app.id, &id).await?;
        let rows = sqlx::query("SELECT id, os_type, name, revoked, created_at, last_seen, push_token, public_key FROM devices WHERE user_id = $1 ORDER BY id").bind(user.id).fetch_all(&state.db.pool).await?;
        let devices: Vec<Value> = rows
            .iter()
            .map(|r| json!({"id": r.get::<i64, _>(0), "os_type": r.get::<String, _>(1), "name": r.get::<String, _>(2), "revoked": r.get::<i64, _>(3) != 0, "created_at": r.get::<i64, _>(4), "last_seen": r.get::<i64, _>(5), "push": r.get::<Option<String>, _>(6).is_some_and(|t| !t.is_empty()), "public_key": r.get::<String, _>(7)}))
            .collect();
        Ok((StatusCode::OK, json!({"devices": devices, "success": true})))
    }
    .await;
    call.answer(result)
}

pub async fn revoke(
    State(state): State<AppState>,
    Path((_, id, device_id)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    let result = async {
        let user = users::load(&state, call.app.id, &id).await?;
        let device_id: i64 = device_id
            .parse()
            .map_err(|_| ApiError::not_found("Device not found."))?;
        let done = sqlx::query("UPDATE devices SET revoked = 1 WHERE id = $1 AND user_id = $2")
            .bind(device_id)
            .bind(user.id)
            .execute(&state.db.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(ApiError::not_found("Device not found."));
        }
        Ok((
            StatusCode::OK,
            json!({"message": "Device revoked.", "success": true}),
        ))
    }
    .await;
    call.answer(result)
}

/// A device API error: `{"error", "message"}`.
pub fn device_error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

const MAX_FIELD: usize = 512;

/// `POST /device/v1/register`.
pub async fn register(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return device_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be a JSON object.",
        );
    };
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| v.len() <= MAX_FIELD)
    };
    let (Some(code), Some(public_key), Some(name), Some(os), Some(signature)) = (
        field("code"),
        field("public_key"),
        field("name"),
        field("os"),
        field("signature"),
    ) else {
        return device_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code, public_key, name, os and signature are required.",
        );
    };
    let push_token = field("push_token");
    let (Ok(spki), Ok(raw_signature)) = (
        URL_SAFE_NO_PAD.decode(public_key),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return device_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "public_key and signature must be base64url.",
        );
    };
    let message = device::registration_string(code, public_key, name, os, push_token);
    if !device::verify_es256(&spki, message.as_bytes(), &raw_signature) {
        return device_error(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The registration is not signed by the key it registers.",
        );
    }
    match complete_registration(&state, code, public_key, name, os, push_token).await {
        Ok(answer) => (StatusCode::OK, Json(answer)).into_response(),
        Err(Some(response)) => response,
        Err(None) => device_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Try again later.",
        ),
    }
}

async fn complete_registration(
    state: &AppState,
    code: &str,
    public_key: &str,
    name: &str,
    os: &str,
    push_token: Option<&str>,
) -> Result<Value, Option<Response>> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "device registration");
        None
    };
    let time = now();
    let mut tx = state.db.writer.begin().await.map_err(|e| internal(&e))?;
    // One atomic step uses the code up: a second registration with it finds it used.
    let row = sqlx::query("UPDATE registrations SET used = 1 WHERE code_hash = $1 AND used = 0 AND expires_at > $2 RETURNING app_id, user_id")
        .bind(code_hash(code))
        .bind(time)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| internal(&e))?;
    let Some(row) = row else {
        return Err(Some(device_error(
            StatusCode::GONE,
            "registration_invalid",
            "The registration code is unknown, used or expired.",
        )));
    };
    let user_id: i64 = row.get(1);
    let device = sqlx::query("INSERT INTO devices (user_id, os_type, name, public_key, push_token, revoked, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id")
        .bind(user_id)
        .bind(os)
        .bind(name)
        .bind(public_key)
        .bind(push_token)
        .bind(time)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| internal(&e))?;
    let device_id: i64 = device.get(0);
    let user = sqlx::query("SELECT u.email, u.seed_sealed, a.name, a.token_length FROM users u JOIN apps a ON a.id = u.app_id WHERE u.id = $1 AND u.deleted = 0")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| internal(&e))?;
    let Some(user) = user else {
        return Err(Some(device_error(
            StatusCode::GONE,
            "registration_invalid",
            "The user no longer exists.",
        )));
    };
    tx.commit().await.map_err(|e| internal(&e))?;
    let seed = state
        .master
        .open(&format!("users.seed:{user_id}"), &user.get::<String, _>(1))
        .map_err(|e| internal(&e))?;
    // Every copy of the seed is wiped when dropped: the opened bytes (Zeroizing), the
    // Secret (zeroized on drop) and its base32 text.
    let seed_b32 = countersign_otp::Secret::from_bytes(seed.to_vec())
        .map(|s| zeroize::Zeroizing::new(s.to_base32()))
        .map_err(|e| internal(&e))?;
    let server_key = server_signer(state)
        .await
        .map_err(|e| internal(&e))?
        .public_key_spki()
        .map_err(|e| internal(&e))?;
    Ok(json!({
        "device_id": device_id,
        "authy_id": user_id,
        "server_public_key": URL_SAFE_NO_PAD.encode(server_key),
        "server_time": time,
        "totp": {
            "secret": seed_b32.as_str(),
            "digits": user.get::<i64, _>(3),
            "period": 30,
            "algorithm": "SHA1",
            "issuer": user.get::<String, _>(2),
            "label": user.get::<String, _>(0),
        },
    }))
}
