//! The audit log's cryptography, with no I/O (docs/audit.md): the canonical encoding of an
//! entry, its SHA-256 hash (which links the next entry to it) and its ES256 signature by the
//! server key. Kept apart from `store` and `service` because both need it: the store seals an
//! entry inside the transaction that learns its sequence number and predecessor, and the
//! verifier re-computes everything from the stored rows.
//!
//! The encoding is a list of netstrings (`<byte length>:<bytes>,`), so that no field can be
//! confused with another whatever characters it holds, and an independent verifier needs no
//! JSON canonicalisation to recompute a hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{DeviceSigner, SoftwareSigner, verify_es256};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The first field of every encoding: the format and its version.
pub const FORMAT: &str = "countersign-audit-v1";

/// The `prev_hash` of the first entry: 64 zeros (no predecessor).
pub fn genesis_hash() -> String {
    "0".repeat(64)
}

/// The fields an entry's hash and signature cover, in their order of encoding.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    pub seq: i64,
    pub time: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    /// The details as canonical JSON text ([`canonical_json`]).
    pub details: &'a str,
    pub prev_hash: &'a str,
}

fn netstring(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(field.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(field);
    out.push(b',');
}

/// The bytes hashed and signed: netstrings of the format name, seq, time (decimal), actor,
/// action, subject, details and prev_hash.
pub fn encode(fields: &Fields) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + fields.details.len());
    netstring(&mut out, FORMAT.as_bytes());
    netstring(&mut out, fields.seq.to_string().as_bytes());
    netstring(&mut out, fields.time.to_string().as_bytes());
    netstring(&mut out, fields.actor.as_bytes());
    netstring(&mut out, fields.action.as_bytes());
    netstring(&mut out, fields.subject.as_bytes());
    netstring(&mut out, fields.details.as_bytes());
    netstring(&mut out, fields.prev_hash.as_bytes());
    out
}

/// Lower-case hex SHA-256 of the encoding.
pub fn entry_hash(fields: &Fields) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(encode(fields)))
}

/// JSON with every object's keys sorted and no whitespace: one text per value, whatever the
/// order the details were built in.
pub fn canonical_json(value: &Value) -> String {
    sorted(value).to_string()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::with_capacity(map.len());
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A hash and signature made for one entry.
pub struct Seal {
    pub hash: String,
    /// ES256 over the encoding: raw `r ‖ s`, base64url without padding (as in JWS).
    pub signature: String,
}

/// The server key, as the audit log uses it.
pub struct ChainSigner {
    key: SoftwareSigner,
}

impl ChainSigner {
    pub fn new(key: SoftwareSigner) -> ChainSigner {
        ChainSigner { key }
    }

    /// The hash and signature of an entry; `None` only if the key cannot sign.
    pub fn seal(&self, fields: &Fields) -> Option<Seal> {
        let signature = self.key.sign_raw(&encode(fields)).ok()?;
        Some(Seal {
            hash: entry_hash(fields),
            signature: URL_SAFE_NO_PAD.encode(signature),
        })
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn public_key_spki(&self) -> Option<Vec<u8>> {
        self.key.public_key_spki().ok()
    }
}

/// Whether `signature` (base64url raw `r ‖ s`) is the key's ES256 signature of the entry.
pub fn signature_valid(public_key_spki: &[u8], fields: &Fields, signature: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(signature) {
        Ok(raw) => verify_es256(public_key_spki, &encode(fields), &raw),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn netstrings_keep_fields_apart() {
        let fields = Fields {
            seq: 1,
            time: 2,
            actor: "cli",
            action: "a,b",
            subject: "",
            details: "{}",
            prev_hash: "00",
        };
        assert_eq!(
            encode(&fields),
            b"20:countersign-audit-v1,1:1,1:2,3:cli,3:a,b,0:,2:{},2:00,".to_vec()
        );
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let value = json!({"b": {"z": 1, "a": [{"y": 2, "x": "\u{e9}"}]}, "a": null});
        assert_eq!(
            canonical_json(&value),
            "{\"a\":null,\"b\":{\"a\":[{\"x\":\"\u{e9}\",\"y\":2}],\"z\":1}}"
        );
    }
}
