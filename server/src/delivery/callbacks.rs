//! What a bank hears about its approval requests: each state change (approved, denied,
//! expired) is queued for the app's callback URL in the same transaction as the change
//! (`store::approval_outcomes`), so a change and its callback are committed together or not
//! at all. Sending them (leases, signing, retries) is the job in `crate::jobs::callbacks`.

use std::future::Future;

use serde_json::{Value, json};

use crate::audit_chain::{ChainSigner, canonical_json};
use crate::error::ServerError;
use crate::store::approval_outcomes::{self, AuditWith, Outcome, Settled};
use crate::store::audit::Draft;
use crate::store::db::Db;

/// Pending requests expired per query of [`expire_batch`].
const EXPIRY_BATCH: usize = 100;

/// `device_uuid` and `signature` as Authy sent them: strings, from the device that answered
/// (its id, and the signature segment of its signed answer); empty when none answered
/// (expiry).
fn device_fields(evidence: Option<&Value>) -> (String, String) {
    let Some(evidence) = evidence else {
        return (String::new(), String::new());
    };
    let device = match evidence.get("device_id") {
        Some(Value::Number(id)) => id.to_string(),
        Some(Value::String(id)) => id.clone(),
        _ => String::new(),
    };
    let jws = evidence.get("jws").and_then(Value::as_str).unwrap_or("");
    let signature = jws.rsplit('.').next().unwrap_or("").to_owned();
    (device, signature)
}

/// The callback body in the shape and JSON types the Authy libraries validate; Countersign's
/// own addition (the device's whole signed answer) is under `countersign`.
fn callback_body(
    settled: &Settled,
    uuid: &str,
    status: &str,
    evidence: Option<&Value>,
    time: i64,
) -> String {
    let (device_uuid, signature) = device_fields(evidence);
    let mut body = json!({
        "authy_id": settled.user_id,
        "device_uuid": device_uuid,
        "callback_action": "approval_request_status",
        "uuid": uuid,
        "status": status,
        "signature": signature,
        "approval_request": {
            "transaction": {
                "details": settled.details,
                "hidden_details": settled.hidden_details,
                "message": settled.message,
                "status": status,
                "uuid": uuid,
                "created_at_time": settled.created_at,
                "device_signing_time": time,
                "device_geolocation": "",
                "reason": "",
            },
            "expiration_timestamp": settled.expires_at,
        },
    });
    // Only scalars that every library's canonicalisation agrees on: no null, no boolean, no
    // empty object (docs/server-api.md, "Callback signatures").
    if let Some(evidence) = evidence {
        body["countersign"] = json!({"signed_answer": evidence});
    }
    body.to_string()
}

/// Who decided, for the audit trail: the device (or `system` for expiry) and what the caller
/// adds to the entry's details (never a secret: ids and hashes).
pub struct Decider<'a> {
    pub signer: &'a ChainSigner,
    pub actor: String,
    pub details: Value,
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// The audit entry of a decision: the decider's details plus what an auditor needs to tie
/// it to the request (app, user, uuid, the hashes of what the customer saw).
fn decision_draft(settled: &Settled, uuid: &str, status: &str, time: i64, by: Decider) -> Draft {
    let pairs = |object: &Value| -> Vec<(String, String)> {
        object.as_object().map_or_else(Vec::new, |map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
    };
    let shown = countersign_protocol::displayed_content(&settled.message, &pairs(&settled.details));
    let mut details = json!({
        "app_id": settled.app_id,
        "authy_id": settled.user_id,
        "uuid": uuid,
        "decision": status,
        "content_sha256": sha256_hex(&shown),
        "hidden_details_sha256":
            countersign_protocol::hidden_details_sha256(&pairs(&settled.hidden_details)),
    });
    if let (Some(out), Some(extra)) = (details.as_object_mut(), by.details.as_object()) {
        for (key, value) in extra {
            out.insert(key.clone(), value.clone());
        }
    }
    Draft {
        time,
        actor: by.actor,
        action: match status {
            "approved" => "approval.approved",
            "denied" => "approval.denied",
            _ => "approval.expired",
        }
        .into(),
        subject: format!("approval:{uuid}"),
        details: canonical_json(&details),
    }
}

/// Moves a pending request to `status` ("approved", "denied", "expired") in one atomic step
/// with its audit entry, and queues its callback. Returns false when the request was no
/// longer pending.
pub async fn resolve(
    db: &Db,
    uuid: &str,
    status: &str,
    evidence: Option<&Value>,
    by: Decider<'_>,
) -> Result<bool, ServerError> {
    let time = super::now();
    let outcome = Outcome {
        uuid,
        status,
        evidence: evidence.map(Value::to_string),
        time,
    };
    let signer = by.signer;
    let audit_with = AuditWith {
        signer,
        draft: |settled: &Settled| decision_draft(settled, uuid, status, time, by),
    };
    let settled = approval_outcomes::settle(
        db,
        outcome,
        |settled| callback_body(settled, uuid, status, evidence, time),
        audit_with,
    )
    .await?;
    Ok(settled)
}

/// Expires pending requests whose time is up (one batch; the expiry job repeats it). `signer`
/// (the audit key) is awaited only when something is due.
pub async fn expire_due(
    db: &Db,
    signer: impl Future<Output = Result<ChainSigner, ServerError>>,
) -> Result<(), ServerError> {
    expire_batch(db, signer).await.map(|_| ())
}

/// Expires up to one batch of due requests; returns how many were due, so that a caller can
/// go on while batches come back full.
pub async fn expire_batch(
    db: &Db,
    signer: impl Future<Output = Result<ChainSigner, ServerError>>,
) -> Result<usize, ServerError> {
    let due = approval_outcomes::due_to_expire(db, super::now(), EXPIRY_BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let signer = signer.await?;
    for uuid in &due {
        let by = Decider {
            signer: &signer,
            actor: "system".into(),
            details: json!({}),
        };
        resolve(db, uuid, "expired", None, by).await?;
    }
    Ok(due.len())
}

/// True when a batch of [`expire_batch`] was full, so more may be due.
pub fn batch_was_full(expired: usize) -> bool {
    expired >= EXPIRY_BATCH
}

/// The signed device answer kept as evidence; none before a device answered.
pub async fn evidence(db: &Db, uuid: &str) -> Result<Option<Value>, ServerError> {
    let text = approval_outcomes::evidence(db, uuid).await?;
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
}
