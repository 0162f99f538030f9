//! Checking and exporting the audit trail (docs/audit.md): `audit verify` walks the stored
//! chain in sequence order and names the FIRST entry that breaks it (and why), because
//! everything after a break is unproven; `audit export` writes a range with the public key so
//! that an auditor can check it without the server.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;
use serde_json::{Value, json};

use super::audit::{chain_signer, entry_json};
use crate::audit_chain::{FORMAT, entry_hash, genesis_hash, signature_valid};
use crate::error::ServerError;
use crate::state::Inner;
use crate::store::audit::{self as stored, Entry};
use crate::store::db::Db;

/// Entries read per query while walking the chain.
const BATCH: i64 = 1000;

/// The first entry that breaks the chain, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// What a walk of the chain found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry checked: how many, and the last one's (seq, hash).
    Intact {
        entries: i64,
        head: Option<(i64, String)>,
    },
    Broken(Break),
}

/// The walk's position: the seq and predecessor hash the next entry must have.
struct Walk<'a> {
    public_key: &'a [u8],
    next_seq: i64,
    prev_hash: String,
    checked: i64,
}

impl Walk<'_> {
    /// Checks one entry (read in seq order); `window` holds the batch it came from, to tell
    /// a moved entry from an edited one.
    fn check(&mut self, entry: &Entry, window: &[Entry]) -> Result<(), Break> {
        let broken = |reason: String| Break {
            seq: entry.seq.min(self.next_seq),
            reason,
        };
        if entry.seq != self.next_seq {
            return Err(broken(format!(
                "entries {}..{} are missing (deleted): a gap in the sequence",
                self.next_seq,
                entry.seq - 1
            )));
        }
        if entry_hash(&entry.fields()) != entry.hash {
            return Err(broken(edited_or_moved(entry, window)));
        }
        if entry.prev_hash != self.prev_hash {
            return Err(broken(
                "its prev_hash is not the hash of the entry before it (an entry was removed, replaced or reordered)".into(),
            ));
        }
        if !signature_valid(self.public_key, &entry.fields(), &entry.signature) {
            return Err(broken(
                "bad signature: the entry was not signed by the server key (forged or re-hashed)"
                    .into(),
            ));
        }
        self.next_seq += 1;
        self.prev_hash = entry.hash.clone();
        self.checked += 1;
        Ok(())
    }
}

/// Why an entry's fields do not match its hash: written under another seq (moved), or edited.
fn edited_or_moved(entry: &Entry, window: &[Entry]) -> String {
    let written_as = window.iter().map(|other| other.seq).find(|&seq| {
        let mut fields = entry.fields();
        fields.seq = seq;
        seq != entry.seq && entry_hash(&fields) == entry.hash
    });
    match written_as {
        Some(seq) => format!("reordered: this entry was written as seq {seq}"),
        None => "edited: its fields no longer match its hash".into(),
    }
}

/// Walks the stored chain from its first entry. `expected_head` is a (seq, hash) the auditor
/// kept (e.g. from an earlier export): the chain must still hold exactly that entry.
///
/// The stored head is read BEFORE the walk: on a live database, decisions keep appending, and
/// a head read after the walk could name an entry the walk never saw (a false "truncated").
/// Entries appended meanwhile are walked and checked like the others.
pub async fn verify(
    db: &Db,
    public_key: &[u8],
    expected_head: Option<(i64, String)>,
) -> Result<Verdict, ServerError> {
    let stored_head = stored::head(db).await?;
    let mut walk = Walk {
        public_key,
        next_seq: 1,
        prev_hash: genesis_hash(),
        checked: 0,
    };
    let heads = [
        (stored_head, "the stored chain head"),
        (expected_head, "the expected head"),
    ];
    // The hash the walk found at each head's seq.
    let mut found_at_heads: [Option<String>; 2] = [None, None];
    let mut last: Option<(i64, String)> = None;
    loop {
        let batch = stored::oldest_first(db, walk.next_seq, i64::MAX, BATCH).await?;
        for entry in &batch {
            if let Err(found) = walk.check(entry, &batch) {
                return Ok(Verdict::Broken(found));
            }
            for (found, (head, _)) in found_at_heads.iter_mut().zip(&heads) {
                if head.as_ref().is_some_and(|(seq, _)| *seq == entry.seq) {
                    *found = Some(entry.hash.clone());
                }
            }
            last = Some((entry.seq, entry.hash.clone()));
        }
        if i64::try_from(batch.len()).ok() != Some(BATCH) {
            break;
        }
    }
    let last_seq = last.as_ref().map_or(0, |(seq, _)| *seq);
    for ((head, what), found) in heads.into_iter().zip(&found_at_heads) {
        if let Some(found) = compare_head(last_seq, found.as_deref(), head, what) {
            return Ok(Verdict::Broken(found));
        }
    }
    Ok(Verdict::Intact {
        entries: walk.checked,
        head: last,
    })
}

/// A truncated or replaced tail: the head recorded elsewhere is not in the chain (`found`:
/// the hash of the walked entry with the head's seq).
fn compare_head(
    last_seq: i64,
    found: Option<&str>,
    head: Option<(i64, String)>,
    what: &str,
) -> Option<Break> {
    let (head_seq, head_hash) = head?;
    if head_seq > last_seq {
        return Some(Break {
            seq: last_seq + 1,
            reason: format!(
                "entries {}..{head_seq} are missing: {what} is seq {head_seq} (the tail was truncated)",
                last_seq + 1
            ),
        });
    }
    match found {
        Some(hash) if hash != head_hash => Some(Break {
            seq: head_seq,
            reason: format!("its hash differs from {what}'s (the tail was replaced)"),
        }),
        _ => None,
    }
}

/// The server's audit public key (SubjectPublicKeyInfo DER).
pub async fn public_key(state: &Inner) -> Result<Vec<u8>, ServerError> {
    chain_signer(state)
        .await?
        .public_key_spki()
        .ok_or(ServerError::Sealed)
}

/// A SubjectPublicKeyInfo DER key as PEM.
pub fn public_key_pem(spki: &[u8]) -> String {
    let body = STANDARD.encode(spki);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// A PEM public key (`-----BEGIN PUBLIC KEY-----`) as DER, if it is a P-256 key.
pub fn public_key_from_pem(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = STANDARD.decode(body).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()?;
    Some(der)
}

/// A P-256 public key as a JWK (RFC 7517).
pub fn public_key_jwk(spki: &[u8]) -> Option<Value> {
    let key = VerifyingKey::from_public_key_der(spki).ok()?;
    let point = key.to_sec1_point(false);
    Some(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(point.x()?),
        "y": URL_SAFE_NO_PAD.encode(point.y()?),
        "alg": "ES256",
        "use": "sig",
    }))
}

/// Writes entries `from..=to` as JSON lines after a header line holding the format, the
/// public key (PEM and JWK) and the stored chain head. Returns how many entries were written.
pub async fn export(
    state: &Inner,
    from: i64,
    to: i64,
    out: &mut dyn Write,
) -> Result<i64, ServerError> {
    let spki = public_key(state).await?;
    let head = stored::head(&state.db).await?;
    let header = json!({
        "format": FORMAT,
        "from": from,
        "to": to,
        "public_key_pem": public_key_pem(&spki),
        "public_key_jwk": public_key_jwk(&spki),
        "head": head.map(|(seq, hash)| json!({"seq": seq, "hash": hash})),
    });
    writeln!(out, "{header}")?;
    let mut next = from.max(1);
    let mut written = 0;
    loop {
        let batch = stored::oldest_first(&state.db, next, to, BATCH).await?;
        for entry in &batch {
            writeln!(out, "{}", entry_json(entry))?;
            next = entry.seq + 1;
            written += 1;
        }
        if i64::try_from(batch.len()).ok() != Some(BATCH) {
            break;
        }
    }
    out.flush()?;
    Ok(written)
}
