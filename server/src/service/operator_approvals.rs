//! The console's approval pages: the live list (filtered by app and state) and one request
//! as its customer saw it, with the device's signed answer and the server's own verdict on
//! it. The page verifies the same answer again in the browser (assets/evidence.js) against
//! the device's public key as a JWK, so the operator need not trust this verdict alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol as protocol;
use data_encoding::HEXLOWER;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::{AppState, now};
use crate::store::approval_list::{self, ApprovalFilter, ApprovalLine, ApprovalRecord};
use crate::store::devices;

/// Requests per list page.
pub const PAGE_SIZE: i64 = 50;
/// Deepest page offered (a list is for recent requests; older ones are found by uuid).
pub const MAX_PAGE: i64 = 200;
/// The states a request can be listed by.
pub const STATES: [&str; 4] = ["pending", "approved", "denied", "expired"];

/// A request's state as an operator means it: a pending request past its expiry is expired
/// even before the expiry job has marked it.
pub fn shown_state(line: &ApprovalLine, time: i64) -> &str {
    if line.status == "pending" && line.expires_at > 0 && line.expires_at <= time {
        "expired"
    } else {
        &line.status
    }
}

/// One page of the list; an unknown state filter is refused rather than matching nothing.
pub async fn list(
    state: &AppState,
    app_id: Option<i64>,
    status: Option<&str>,
    page: i64,
) -> Result<Vec<ApprovalLine>, ApiError> {
    if let Some(status) = status
        && !STATES.contains(&status)
    {
        return Err(ApiError::invalid_parameter(
            "Unknown approval request state.",
        ));
    }
    let filter = ApprovalFilter {
        app_id,
        user_id: None,
        status,
    };
    let offset = page.clamp(0, MAX_PAGE) * PAGE_SIZE;
    Ok(approval_list::list(&state.db, &filter, offset, PAGE_SIZE).await?)
}

/// The device's answer and what the server finds of it.
pub struct Evidence {
    pub jws: String,
    pub device_id: i64,
    pub decision: String,
    /// The device's public key as a JWK (`{"kty":"EC","crv":"P-256","x","y"}`), JSON text.
    pub jwk: Option<String>,
    /// The signature verifies with the device's key.
    pub signature_valid: bool,
    /// The signed uuid, content hash, hidden-details hash and number are this request's.
    pub content_matches: bool,
    /// The signed payload, as JSON text (after a valid signature only).
    pub payload: Option<String>,
}

/// A request as its page shows it.
pub struct ApprovalView {
    pub record: ApprovalRecord,
    pub details: Vec<(String, String)>,
    pub hidden_details: Vec<(String, String)>,
    /// (resolution, URL) of each logo.
    pub logos: Vec<(String, String)>,
    pub evidence: Option<Evidence>,
    pub state: String,
}

fn pairs(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str(stored).unwrap_or_default()
}

fn logos(stored: &str) -> Vec<(String, String)> {
    let list: Vec<Value> = serde_json::from_str(stored).unwrap_or_default();
    let text = |logo: &Value, key: &str| {
        logo.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    list.iter()
        .map(|logo| (text(logo, "res"), text(logo, "url")))
        .collect()
}

pub async fn view(state: &AppState, uuid: &str) -> Result<ApprovalView, ApiError> {
    let not_found = || ApiError::not_found("Approval request not found.");
    if uuid.len() > 64 {
        return Err(not_found());
    }
    let record = approval_list::one(&state.db, uuid)
        .await?
        .ok_or_else(not_found)?;
    let details = pairs(&record.details);
    let hidden_details = pairs(&record.hidden_details);
    let evidence = match record.evidence.as_deref() {
        Some(text) => evidence(state, &record, &details, &hidden_details, text).await?,
        None => None,
    };
    Ok(ApprovalView {
        state: shown_state(&record.line, now()).to_owned(),
        logos: logos(&record.logos),
        details,
        hidden_details,
        evidence,
        record,
    })
}

async fn evidence(
    state: &AppState,
    record: &ApprovalRecord,
    details: &[(String, String)],
    hidden: &[(String, String)],
    stored: &str,
) -> Result<Option<Evidence>, ApiError> {
    let Ok(kept) = serde_json::from_str::<Value>(stored) else {
        return Ok(None);
    };
    let jws = kept.get("jws").and_then(Value::as_str).unwrap_or("");
    let device_id = kept.get("device_id").and_then(Value::as_i64).unwrap_or(0);
    let decision = kept.get("decision").and_then(Value::as_str).unwrap_or("");
    let key = devices::key(&state.db, device_id)
        .await?
        .and_then(|k| URL_SAFE_NO_PAD.decode(k.public_key).ok());
    let verdict = judge(jws, key.as_deref(), record, details, hidden);
    Ok(Some(Evidence {
        jws: jws.to_owned(),
        device_id,
        decision: decision.to_owned(),
        jwk: key.as_deref().and_then(jwk_of_spki),
        signature_valid: verdict.payload.is_some(),
        content_matches: verdict.content_matches,
        payload: verdict.payload.map(|p| p.to_string()),
    }))
}

/// The server's verdict on a kept answer.
struct Verdict {
    /// The signed payload, when the signature verifies with the device's key.
    payload: Option<Value>,
    content_matches: bool,
}

fn judge(
    jws: &str,
    spki: Option<&[u8]>,
    record: &ApprovalRecord,
    details: &[(String, String)],
    hidden: &[(String, String)],
) -> Verdict {
    let payload = spki
        .and_then(|spki| protocol::verify_compact(jws, spki).ok())
        .and_then(|(_, payload)| serde_json::from_slice::<Value>(&payload).ok());
    Verdict {
        content_matches: payload
            .as_ref()
            .is_some_and(|p| signed_content_matches(p, record, details, hidden)),
        payload,
    }
}

/// The signed payload names this request and exactly its content.
fn signed_content_matches(
    payload: &Value,
    record: &ApprovalRecord,
    details: &[(String, String)],
    hidden: &[(String, String)],
) -> bool {
    let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("");
    let shown = protocol::displayed_content(&record.line.message, details);
    let number_ok = record.number == 0
        || text("decision") != "approve"
        || payload.get("number").and_then(Value::as_i64) == Some(record.number);
    text("uuid") == record.line.uuid
        && text("content_sha256") == HEXLOWER.encode(&Sha256::digest(shown.as_bytes()))
        && text("hidden_details_sha256") == protocol::hidden_details_sha256(hidden)
        && number_ok
}

/// DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, an uncompressed
/// point follows: 0x04, then x and y of 32 bytes each).
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// The JWK of a P-256 SPKI key, as JSON text; `None` for any other key.
pub fn jwk_of_spki(spki: &[u8]) -> Option<String> {
    let point = spki.strip_prefix(&P256_SPKI_PREFIX[..])?;
    if point.len() != 64 {
        return None;
    }
    let jwk = serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[..32]),
        "y": URL_SAFE_NO_PAD.encode(&point[32..]),
    });
    Some(jwk.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::approval_list::ApprovalLine;

    // docs/device-protocol.md's test vectors: the device key and its answer.
    const SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A_4QCLi8maQa6elWKLxk8vGyDC1-n1F3o8KU1EYimQ";
    const JWS: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjciLCJ0eXAiOiJjb3VudGVyc2lnbi1hbnN3ZXIrandzIn0.eyJ2IjoxLCJ0eXAiOiJwYXltZW50LWFwcHJvdmFsIiwidXVpZCI6IjZmMmMzZjNlLTUyYTYtNGMzNi05YTU1LTNmNmIwZjFmOWQyMSIsIm5vbmNlIjoiOVQydVFtMHJWWXQxd3EzWjV4N2FCUSIsImRldmljZV9pZCI6NywiZGVjaXNpb24iOiJhcHByb3ZlIiwiY29udGVudF9zaGEyNTYiOiJjNTRiZjZlZDlkZGU0NTU2NmZkNmMyZWRmM2NkNjY5Yjc2MDU4MDM5MmFlMWY3NzQxNjhlYTYxYTVmNjA0YzhjIiwiaGlkZGVuX2RldGFpbHNfc2hhMjU2IjoiMTY0OTdlN2U3NWZhNWRmMGJkNTg3NDVkZDgyNzA2OGZmOWFlMmM2ZDkxZmY3NWEwNjNjMjFkNzAxNTI3N2RkZSIsImlhdCI6MTc5NTAwMDAwMH0.vClYdmqvOL0sLmhsSefZmgORIetaQ7KK13y9b2Bzq_90vkEyLsjnAvTCOv_icIvYKvelSK9NyY6ZnMvyilBdxg";

    fn record(message: &str) -> ApprovalRecord {
        ApprovalRecord {
            line: ApprovalLine {
                uuid: "6f2c3f3e-52a6-4c36-9a55-3f6b0f1f9d21".to_owned(),
                app_id: 1,
                user_id: 1,
                message: message.to_owned(),
                status: "approved".to_owned(),
                created_at: 0,
                expires_at: 0,
            },
            details: String::new(),
            hidden_details: String::new(),
            logos: String::new(),
            processed_at: 0,
            number: 0,
            evidence: None,
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_vector_answer_verifies_and_tampering_is_flagged() {
        let spki = URL_SAFE_NO_PAD.decode(SPKI).unwrap();
        let details = pairs(&[("Amount", "713.00 EUR"), ("Payee", "Hermione Granger")]);
        let hidden = pairs(&[("Payment ID", "P-2291")]);
        let good = judge(
            JWS,
            Some(&spki),
            &record("Approve payment"),
            &details,
            &hidden,
        );
        assert!(good.payload.is_some() && good.content_matches);
        // Stored content changed after the answer: the signature holds, the content does not.
        let other = judge(
            JWS,
            Some(&spki),
            &record("Approve payments"),
            &details,
            &hidden,
        );
        assert!(other.payload.is_some() && !other.content_matches);
        let amount = pairs(&[("Amount", "7130.00 EUR"), ("Payee", "Hermione Granger")]);
        assert!(
            !judge(
                JWS,
                Some(&spki),
                &record("Approve payment"),
                &amount,
                &hidden
            )
            .content_matches
        );
        // The JWS itself tampered with: one payload character changed.
        let mut tampered = JWS.to_owned();
        let at = JWS.find('.').unwrap() + 10;
        let swapped = if &JWS[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, swapped);
        let bad = judge(
            &tampered,
            Some(&spki),
            &record("Approve payment"),
            &details,
            &hidden,
        );
        assert!(bad.payload.is_none() && !bad.content_matches);
        assert!(
            judge(JWS, None, &record("Approve payment"), &details, &hidden)
                .payload
                .is_none()
        );
    }

    #[test]
    fn the_jwk_carries_the_keys_coordinates() {
        let spki = URL_SAFE_NO_PAD.decode(SPKI).unwrap();
        let jwk: Value = serde_json::from_str(&jwk_of_spki(&spki).unwrap()).unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        // The point follows the 27-byte prefix: x then y.
        assert_eq!(
            URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap(),
            spki[27..59]
        );
        assert_eq!(
            URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap(),
            spki[59..]
        );
        assert_eq!(jwk_of_spki(&spki[1..]), None);
        assert_eq!(jwk_of_spki(&[]), None);
    }
}
