//! The test vectors of docs/vault.md and docs/backup.md (computed with libsodium).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use countersign_app::transfer::{self, ImportFormat};
use countersign_app::vault::format;
use std::collections::HashMap;

fn vectors(doc: &str) -> HashMap<String, String> {
    let start = doc.find("```vectors\n").unwrap() + "```vectors\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end]
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .unwrap()
}

#[test]
fn vault_record_vector() {
    let v = vectors(include_str!("../../docs/vault.md"));
    let vault_id: [u8; 16] = hex(&v["vault_id"]).try_into().unwrap();
    let record_id: [u8; 16] = hex(&v["record_id"]).try_into().unwrap();
    let aad = format::record_aad(&vault_id, &record_id, v["revision"].parse().unwrap());
    assert_eq!(aad, hex(&v["aad"]));
    let cipher = XChaCha20Poly1305::new_from_slice(&hex(&v["key"])).unwrap();
    let nonce: [u8; 24] = hex(&v["nonce"]).try_into().unwrap();
    let ciphertext = hex(&v["ciphertext"]);
    let plain = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(plain, v["plaintext"].as_bytes());
    let (account, meta) = format::decode_record(&plain).unwrap();
    assert_eq!(account.issuer.as_deref(), Some("Gringotts Bank"));
    assert_eq!(account.params.digits(), 7);
    assert_eq!(meta.tags, vec!["bank".to_string()]);
    // Re-sealing with the same nonce gives the same bytes: the layout is exactly the spec's.
    let again = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(again, ciphertext);
}

#[test]
fn backup_file_vector() {
    let v = vectors(include_str!("../../docs/backup.md"));
    let report = transfer::import(
        ImportFormat::Countersign,
        &hex(&v["file"]),
        Some(&v["passphrase"]),
    )
    .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&v["payload"]).unwrap();
    let expected = payload["entries"].as_array().unwrap();
    assert_eq!(report.accounts.len(), expected.len());
    for (imported, entry) in report.accounts.iter().zip(expected) {
        assert_eq!(imported.account.label, entry["label"].as_str().unwrap());
        assert_eq!(imported.account.issuer.as_deref(), entry["issuer"].as_str());
        assert_eq!(
            imported.account.secret.to_base32(),
            entry["secret"].as_str().unwrap()
        );
        assert_eq!(imported.meta.notes, entry["notes"].as_str().unwrap());
    }
    assert!(transfer::import(ImportFormat::Countersign, &hex(&v["file"]), Some("wrong")).is_err());
}
