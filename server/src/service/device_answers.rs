//! What an authenticated device does with approval requests (docs/device-protocol.md): fetch
//! the pending ones as challenges signed by the server key, answer one with a JWS signed by
//! its own key (checked against exactly the request's content and kept as evidence), and set
//! its push token.

use countersign_protocol as device;
use serde_json::{Value, json};

use super::audit::chain_signer;
use super::device_auth::AuthenticatedDevice;
use super::number_matching::{self, Choices};
use super::registration::server_signer;
use crate::audit_chain::ChainSigner;
use crate::delivery::callbacks::{self, Decider};
use crate::error::{DeviceError, Refusal};
use crate::state::{AppState, now};
use crate::store::approvals::{self as stored, Answerable, Challenge};
use crate::store::devices;

/// Longest push token accepted, in bytes.
pub const MAX_PUSH_TOKEN: usize = 4096;

fn pairs(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str(stored).unwrap_or_default()
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
    let drawn = number_matching::around(number).to_json();
    let settled = stored::settle_number_choices(&state.db, uuid, stored, &drawn)
        .await
        .map_err(|e| e.to_string())?;
    Choices::parse(number, &settled)
        .map(|c| c.shown)
        .ok_or_else(|| "number choices could not be stored".to_owned())
}

/// One pending request as a challenge payload.
async fn challenge(state: &AppState, user_id: i64, request: &Challenge) -> Result<Value, String> {
    let hidden = pairs(&request.hidden_details);
    let mut payload = json!({
        "v": 1,
        "typ": "payment-approval",
        "uuid": request.uuid,
        "authy_id": user_id,
        "message": request.message,
        "details": pairs(&request.details),
        "hidden_details_sha256": device::hidden_details_sha256(&hidden),
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "nonce": request.nonce,
    });
    if request.number > 0 {
        let choices = number_choices(
            state,
            &request.uuid,
            request.number,
            &request.number_choices,
        )
        .await?;
        payload["number_choices"] = json!(choices);
    }
    Ok(payload)
}

/// The user's pending requests as signed challenges.
pub async fn pending(state: &AppState, device: &AuthenticatedDevice) -> Result<Value, DeviceError> {
    let signed: Result<Vec<String>, String> = async {
        let signer = server_signer(state).await.map_err(|e| e.to_string())?;
        let requests = stored::pending_for_user(&state.db, device.user_id, now())
            .await
            .map_err(|e| e.to_string())?;
        let header = json!({"alg": "ES256", "typ": "countersign-challenge+jws", "kid": "server"});
        let mut challenges = Vec::new();
        for request in &requests {
            let payload = challenge(state, device.user_id, request).await?;
            let jws = device::sign_compact(&header, payload.to_string().as_bytes(), &signer)
                .map_err(|e| e.to_string())?;
            challenges.push(jws);
        }
        Ok(challenges)
    }
    .await;
    match signed {
        Ok(challenges) => Ok(json!({"approval_requests": challenges, "server_time": now()})),
        Err(e) => Err(DeviceError::unavailable("serving challenges", &e)),
    }
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// A verified answer: the JWS and its JSON payload.
struct SignedAnswer {
    jws: String,
    payload: Value,
}

impl SignedAnswer {
    fn text(&self, key: &str) -> &str {
        self.payload.get(key).and_then(|v| v.as_str()).unwrap_or("")
    }
}

/// The answer JWS of the body, verified with the device's key.
fn signed_answer(device: &AuthenticatedDevice, body: &[u8]) -> Result<SignedAnswer, DeviceError> {
    let Some(jws) = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("answer").and_then(|a| a.as_str().map(str::to_owned)))
    else {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "invalid_request",
            "The body must be an object with the answer JWS.",
        );
    };
    let Ok((_, payload)) = device::verify_compact(&jws, &device.public_key) else {
        return DeviceError::refuse(
            Refusal::Unauthorized,
            "invalid_signature",
            "The answer is not signed by this device.",
        );
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&payload) else {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "invalid_request",
            "The answer's payload is not JSON.",
        );
    };
    Ok(SignedAnswer { jws, payload })
}

/// The decision ("approved" or "denied") of an answer made for this request and device.
fn decision(
    answer: &SignedAnswer,
    uuid: &str,
    device: &AuthenticatedDevice,
) -> Result<&'static str, DeviceError> {
    let decision = match answer.text("decision") {
        "approve" => "approved",
        "deny" => "denied",
        _ => {
            return DeviceError::refuse(
                Refusal::BadRequest,
                "invalid_request",
                "decision must be approve or deny.",
            );
        }
    };
    let payload = &answer.payload;
    if payload.get("v").and_then(|v| v.as_i64()) != Some(1)
        || answer.text("typ") != "payment-approval"
        || answer.text("uuid") != uuid
        || payload.get("device_id").and_then(|v| v.as_i64()) != Some(device.id)
    {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "content_mismatch",
            "The answer is for another request, device or kind of approval.",
        );
    }
    Ok(decision)
}

/// The request, if it belongs to the device's user and is pending; expires it when due.
async fn answerable(
    state: &AppState,
    uuid: &str,
    device: &AuthenticatedDevice,
) -> Result<Answerable, DeviceError> {
    let request = match stored::answerable(&state.db, uuid).await {
        Ok(Some(request)) => request,
        Ok(None) => {
            return DeviceError::refuse(
                Refusal::NotFound,
                "not_found",
                "No such approval request.",
            );
        }
        Err(e) => return Err(DeviceError::unavailable("loading an approval request", &e)),
    };
    if request.user_id != device.user_id {
        return DeviceError::refuse(
            Refusal::Forbidden,
            "wrong_user",
            "This request belongs to another user.",
        );
    }
    if request.expires_at > 0 && request.expires_at <= now() {
        let _ = callbacks::expire_due(&state.db, chain_signer(state)).await;
        return DeviceError::refuse(Refusal::Gone, "expired", "This request has expired.");
    }
    if request.status != "pending" {
        return DeviceError::refuse(
            Refusal::Conflict,
            "not_pending",
            "This request was already answered.",
        );
    }
    Ok(request)
}

/// Refuses an answer not made for exactly this request's content.
fn check_content(answer: &SignedAnswer, request: &Answerable) -> Result<(), DeviceError> {
    let details = pairs(&request.details);
    let hidden = pairs(&request.hidden_details);
    let shown = device::displayed_content(&request.message, &details);
    if answer.text("nonce") != request.nonce
        || answer.text("content_sha256") != hex_sha256(&shown)
        || answer.text("hidden_details_sha256") != device::hidden_details_sha256(&hidden)
    {
        return DeviceError::refuse(
            Refusal::BadRequest,
            "content_mismatch",
            "The answer was not made for exactly this request's content.",
        );
    }
    Ok(())
}

/// What the audit entry of a device's decision adds: the device, its key and the answer,
/// as ids and hashes.
fn device_decider<'a>(
    signer: &'a ChainSigner,
    device: &AuthenticatedDevice,
    answer: &SignedAnswer,
    why: &str,
) -> Decider<'a> {
    use sha2::{Digest, Sha256};
    Decider {
        signer,
        actor: format!("device:{}", device.id),
        details: json!({
            "device_id": device.id,
            "device_key_sha256": data_encoding::HEXLOWER.encode(&Sha256::digest(&device.public_key)),
            "answer_sha256": hex_sha256(&answer.jws),
            "answered": answer.text("decision"),
            "reason": why,
        }),
    }
}

/// Records the device's signed answer to request `uuid`.
pub async fn answer(
    state: &AppState,
    device: &AuthenticatedDevice,
    uuid: &str,
    body: &[u8],
) -> Result<Value, DeviceError> {
    let answer = signed_answer(device, body)?;
    let decision = decision(&answer, uuid, device)?;
    let request = answerable(state, uuid, device).await?;
    check_content(&answer, &request)?;
    let signer = chain_signer(state)
        .await
        .map_err(|e| DeviceError::unavailable("loading the server key", &e))?;
    let evidence =
        json!({"jws": answer.jws, "device_id": device.id, "decision": answer.text("decision")});
    if request.number > 0
        && decision == "approved"
        && answer.payload.get("number").and_then(|n| n.as_i64()) != Some(request.number)
    {
        // One guess only: a wrong number denies the request, so picking at random cannot win.
        let by = device_decider(&signer, device, &answer, "wrong_number");
        let _ = callbacks::resolve(&state.db, uuid, "denied", Some(&evidence), by).await;
        return DeviceError::refuse(
            Refusal::BadRequest,
            "wrong_number",
            "The number chosen is not the one shown; the request is denied.",
        );
    }
    let by = device_decider(&signer, device, &answer, "answer");
    match callbacks::resolve(&state.db, uuid, decision, Some(&evidence), by).await {
        Ok(true) => Ok(json!({"status": decision})),
        Ok(false) => DeviceError::refuse(
            Refusal::Conflict,
            "not_pending",
            "This request was already answered.",
        ),
        Err(e) => Err(DeviceError::unavailable("recording an answer", &e)),
    }
}

/// Sets the device's push token from `{"push_token": "…"}`, or clears it with `null`.
pub async fn update_push_token(
    state: &AppState,
    device: &AuthenticatedDevice,
    body: &[u8],
) -> Result<Value, DeviceError> {
    let token = match serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("push_token").cloned())
    {
        Some(Value::Null) => None,
        Some(Value::String(token)) if !token.is_empty() && token.len() <= MAX_PUSH_TOKEN => {
            Some(token)
        }
        _ => {
            return DeviceError::refuse(
                Refusal::BadRequest,
                "invalid_request",
                "The body must be {\"push_token\": string or null}.",
            );
        }
    };
    match devices::set_push_token(&state.db, device.id, token.as_deref()).await {
        Ok(()) => Ok(json!({"success": true})),
        Err(e) => Err(DeviceError::unavailable("updating a push token", &e)),
    }
}
