//! ECDSA P-256 signature encodings: DER (what Android Keystore and the Secure Enclave
//! produce) and JOSE's raw `r ‖ s` (what JWS carries).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFormatError {
    #[error("the signature is not a DER-encoded ECDSA signature")]
    NotDer,
    #[error("a signature component is longer than 32 bytes")]
    ComponentTooLong,
    #[error("a raw signature must be 64 bytes")]
    RawLength,
}

/// Reads one DER INTEGER, returning its content and the rest.
fn integer(input: &[u8]) -> Result<(&[u8], &[u8]), SignatureFormatError> {
    let (&tag, rest) = input.split_first().ok_or(SignatureFormatError::NotDer)?;
    let (&len, rest) = rest.split_first().ok_or(SignatureFormatError::NotDer)?;
    if tag != 0x02 || len == 0 || len >= 0x80 || rest.len() < usize::from(len) {
        return Err(SignatureFormatError::NotDer);
    }
    Ok(rest.split_at(usize::from(len)))
}

/// Left-pads a big-endian unsigned integer to 32 bytes (dropping DER's sign byte).
fn fixed(value: &[u8]) -> Result<[u8; 32], SignatureFormatError> {
    let value = match value {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    if value.len() > 32 {
        return Err(SignatureFormatError::ComponentTooLong);
    }
    let mut out = [0u8; 32];
    out[32 - value.len()..].copy_from_slice(value);
    Ok(out)
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` → raw `r ‖ s`, each padded to 32 bytes.
pub fn der_to_raw(der: &[u8]) -> Result<[u8; 64], SignatureFormatError> {
    let (&tag, rest) = der.split_first().ok_or(SignatureFormatError::NotDer)?;
    let (&len, body) = rest.split_first().ok_or(SignatureFormatError::NotDer)?;
    if tag != 0x30 || len >= 0x80 || body.len() != usize::from(len) {
        return Err(SignatureFormatError::NotDer);
    }
    let (r, rest) = integer(body)?;
    let (s, rest) = integer(rest)?;
    if !rest.is_empty() {
        return Err(SignatureFormatError::NotDer);
    }
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&fixed(r)?);
    out[32..].copy_from_slice(&fixed(s)?);
    Ok(out)
}

fn der_integer(out: &mut Vec<u8>, value: &[u8]) {
    // Minimal encoding: no leading zeros, one zero byte if the high bit is set.
    let trimmed = match value.iter().position(|b| *b != 0) {
        Some(i) => &value[i..],
        None => &value[value.len() - 1..],
    };
    let pad = trimmed[0] & 0x80 != 0;
    out.push(0x02);
    out.push((trimmed.len() + usize::from(pad)) as u8);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
}

/// Raw `r ‖ s` (64 bytes) → DER.
pub fn raw_to_der(raw: &[u8]) -> Result<Vec<u8>, SignatureFormatError> {
    if raw.len() != 64 {
        return Err(SignatureFormatError::RawLength);
    }
    let mut body = Vec::with_capacity(72);
    der_integer(&mut body, &raw[..32]);
    der_integer(&mut body, &raw[32..]);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    Ok(out)
}
