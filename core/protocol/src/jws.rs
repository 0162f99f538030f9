//! JWS compact serialisation with ES256 (RFC 7515, RFC 7518 §3.4): `header.payload.signature`,
//! each part base64url without padding, the signature raw `r ‖ s`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::signer::{DeviceSigner, SignerError, verify_es256};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    #[error("not a JWS compact serialisation")]
    Malformed,
    #[error("the JWS algorithm is not ES256")]
    Algorithm,
    #[error("the JWS signature does not verify")]
    Signature,
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// Signs `payload` under `header` (which must say `"alg":"ES256"`).
pub fn sign_compact(
    header: &Value,
    payload: &[u8],
    signer: &dyn DeviceSigner,
) -> Result<String, JwsError> {
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(JwsError::Algorithm);
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = signer.sign_raw(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// Verifies an ES256 JWS with the signer's SubjectPublicKeyInfo; returns header and payload.
pub fn verify_compact(jws: &str, public_key_spki: &[u8]) -> Result<(Value, Vec<u8>), JwsError> {
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(JwsError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(JwsError::Algorithm);
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| JwsError::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| JwsError::Malformed)?;
    let signing_input = &jws[..header_b64.len() + 1 + payload_b64.len()];
    if !verify_es256(public_key_spki, signing_input.as_bytes(), &signature) {
        return Err(JwsError::Signature);
    }
    Ok((header, payload))
}
