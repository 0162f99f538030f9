//! Device registration (docs/device-protocol.md): the bank's backend asks for a one-time
//! registration; the phone registers its ES256 key with it; the bank lists and revokes
//! devices. Registered devices make `sms` and `call` answer "ignored" unless forced.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use serde_json::{Value, json};

use super::users;
use crate::error::{ApiError, DeviceError, Refusal, ServerError};
use crate::state::{App, AppState, Inner, now};
use crate::store::registrations::{self, Completion, NewDevice, Registered};
use crate::store::{devices, server_keys};

/// How long a registration code stays usable.
pub const REGISTRATION_TTL: i64 = 600;
/// Longest registration field accepted, in bytes.
const MAX_FIELD: usize = 512;

fn code_hash(code: &str) -> String {
    use sha2::{Digest, Sha256};
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    data_encoding::HEXLOWER.encode(&Sha256::digest(normalized.as_bytes()))
}

/// The server's ES256 key, created by the first instance that needs it.
pub async fn server_signer(state: &Inner) -> Result<SoftwareSigner, ServerError> {
    if let Some(sealed) = server_keys::sealed_secret(&state.db).await? {
        let secret = state.master.open("server_keys.secret:1", &sealed)?;
        return SoftwareSigner::from_secret(&secret).ok_or(ServerError::Sealed);
    }
    let signer = SoftwareSigner::generate();
    let sealed = state.master.seal("server_keys.secret:1", &signer.secret());
    // Several instances may race here: the first insert wins and everyone reads it back.
    server_keys::insert_if_absent(&state.db, &sealed, now()).await;
    Box::pin(server_signer(state)).await
}

/// A one-time registration code for the user, its link and (rendered by the caller's
/// `qr_data_url`) QR code.
pub async fn create(
    state: &AppState,
    app: &App,
    id: &str,
    qr_data_url: impl Fn(&str, u32) -> Option<String>,
) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let code = countersign_otp::Secret::generate(16).to_base32();
    registrations::insert(
        &state.db,
        &code_hash(&code),
        app.id,
        user.id,
        now() + REGISTRATION_TTL,
    )
    .await?;
    let uri = device::RegistrationLink {
        server_url: state.settings.public_url.clone(),
        code: code.clone(),
    }
    .to_uri();
    let qr_code = qr_data_url(&uri, 256).ok_or_else(ApiError::internal)?;
    Ok(json!({
        "registration": {"code": code, "uri": uri, "expires_in": REGISTRATION_TTL},
        "qr_code": qr_code,
        "success": true,
    }))
}

/// Every device of the app's user `id`.
pub async fn list(state: &AppState, app: &App, id: &str) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let devices: Vec<Value> = devices::list(&state.db, user.id)
        .await?
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "os_type": d.os_type, "name": d.name, "revoked": d.revoked,
                "created_at": d.created_at, "last_seen": d.last_seen,
                "push": d.push_token.as_deref().is_some_and(|t| !t.is_empty()),
                "public_key": d.public_key,
            })
        })
        .collect();
    Ok(json!({"devices": devices, "success": true}))
}

pub async fn revoke(
    state: &AppState,
    app: &App,
    id: &str,
    device_id: &str,
) -> Result<Value, ApiError> {
    let user = users::load(state, app.id, id).await?;
    let device_id: i64 = device_id
        .parse()
        .map_err(|_| ApiError::not_found("Device not found."))?;
    if !devices::revoke(&state.db, device_id, user.id).await? {
        return Err(ApiError::not_found("Device not found."));
    }
    Ok(json!({"message": "Device revoked.", "success": true}))
}

/// A registration's fields, signed by the key it registers.
struct RegistrationFields<'a> {
    code: &'a str,
    public_key: &'a str,
    name: &'a str,
    os: &'a str,
    push_token: Option<&'a str>,
}

fn fields(request: &Value) -> Result<RegistrationFields<'_>, DeviceError> {
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
        return DeviceError::refuse(
            Refusal::BadRequest,
            "invalid_request",
            "code, public_key, name, os and signature are required.",
        );
    };
    let fields = RegistrationFields {
        code,
        public_key,
        name,
        os,
        push_token: field("push_token"),
    };
    let (Ok(spki), Ok(raw_signature)) = (
        URL_SAFE_NO_PAD.decode(public_key),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "invalid_request",
            "public_key and signature must be base64url.",
        );
    };
    let message = device::registration_string(code, public_key, name, os, fields.push_token);
    if !device::verify_es256(&spki, message.as_bytes(), &raw_signature) {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "invalid_signature",
            "The registration is not signed by the key it registers.",
        );
    }
    Ok(fields)
}

/// Registers a device from the JSON body the phone sent.
pub async fn register(state: &AppState, body: &[u8]) -> Result<Value, DeviceError> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "invalid_request",
            "The body must be a JSON object.",
        );
    };
    let fields = fields(&request)?;
    let internal = |e: &dyn std::fmt::Display| DeviceError::unavailable("device registration", e);
    let time = now();
    let device = NewDevice {
        os: fields.os,
        name: fields.name,
        public_key: fields.public_key,
        push_token: fields.push_token,
    };
    let completion = registrations::complete(&state.db, &code_hash(fields.code), time, device)
        .await
        .map_err(|e| internal(&e))?;
    let registered = match completion {
        Completion::Registered(registered) => registered,
        Completion::CodeInvalid => {
            return DeviceError::refuse(
                Refusal::Gone,
                "registration_invalid",
                "The registration code is unknown, used or expired.",
            );
        }
        Completion::UserGone => {
            return DeviceError::refuse(
                Refusal::Gone,
                "registration_invalid",
                "The user no longer exists.",
            );
        }
    };
    registered_answer(state, &registered, time)
        .await
        .map_err(|e| internal(&e))
}

/// The answer to a registration: ids, the server's key and the seed for app codes.
async fn registered_answer(
    state: &AppState,
    registered: &Registered,
    time: i64,
) -> Result<Value, String> {
    let user_id = registered.user_id;
    let seed = state
        .master
        .open(&format!("users.seed:{user_id}"), &registered.seed_sealed)
        .map_err(|e| e.to_string())?;
    // Every copy of the seed is wiped when dropped: the opened bytes (Zeroizing), the
    // Secret (zeroized on drop) and its base32 text.
    let seed_b32 = countersign_otp::Secret::from_bytes(seed.to_vec())
        .map(|s| zeroize::Zeroizing::new(s.to_base32()))
        .map_err(|e| e.to_string())?;
    let server_key = server_signer(state)
        .await
        .map_err(|e| e.to_string())?
        .public_key_spki()
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "device_id": registered.device_id,
        "authy_id": user_id,
        "server_public_key": URL_SAFE_NO_PAD.encode(server_key),
        "server_time": time,
        "totp": {
            "secret": seed_b32.as_str(),
            "digits": registered.token_length,
            "period": 30,
            "algorithm": "SHA1",
            "issuer": registered.app_name,
            "label": registered.email,
        },
    }))
}
