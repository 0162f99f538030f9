//! libsodium's `crypto_secretstream_xchacha20poly1305`, for a stream of ONE message tagged
//! FINAL — what Ente Auth's `encryptData` writes for its encrypted export. Written from
//! libsodium's `secretstream_xchacha20poly1305.c` on the `chacha20` and `poly1305` crates
//! (the primitives `chacha20poly1305` is built from); no maintained pure-Rust crate
//! implements this construction on the RustCrypto generation the workspace uses.
//!
//! The 24-byte header is the stream's nonce: the key is HChaCha20(key, header[0..16]); the
//! ChaCha20-IETF nonce is the counter 1 (LE, 4 bytes) ‖ header[16..24]. One message is
//! `tag ^ ks1[0]` ‖ `message ^ ks2…` ‖ Poly1305 MAC, where ks0's first 32 bytes are the
//! Poly1305 key, ks1 is the keystream block 1 (its other 63 bytes are MACed but not
//! sent), and the MAC covers (no additional data) the 64-byte block, the ciphertext, `len %
//! 16` zero bytes (libsodium's padding), then le64(0) ‖ le64(64 + message length).
//!
//! Only the first message's state is needed, so the rekeying and nonce update that follow
//! each message are not implemented: a stream whose first message is not FINAL is refused.

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::{ChaCha20, R20, hchacha};
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use zeroize::{Zeroize, Zeroizing};

/// Header (stream nonce) length.
pub const HEADER_BYTES: usize = 24;
/// What one message adds: the encrypted tag byte and the 16-byte MAC.
pub const ABYTES: usize = 17;
/// The tag of a stream's last message.
pub const TAG_FINAL: u8 = 0x03;

/// The first message's key and ChaCha20-IETF nonce.
struct MessageState {
    key: Zeroizing<[u8; 32]>,
    nonce: [u8; 12],
}

impl MessageState {
    fn new(key: &[u8; 32], header: &[u8; HEADER_BYTES]) -> MessageState {
        let mut input = [0u8; 16];
        input.copy_from_slice(&header[..16]);
        let mut subkey = hchacha::<R20>(&(*key).into(), &input.into());
        let mut state = MessageState {
            key: Zeroizing::new([0u8; 32]),
            nonce: [0u8; 12],
        };
        state.key.copy_from_slice(&subkey);
        subkey.zeroize();
        state.nonce[0] = 1;
        state.nonce[4..].copy_from_slice(&header[16..]);
        state
    }

    /// XORs `buf` with the keystream from 64-byte block `block` on.
    fn xor(&self, block: u64, buf: &mut [u8]) {
        let mut cipher = ChaCha20::new(&(*self.key).into(), &self.nonce.into());
        cipher.seek(block * 64);
        cipher.apply_keystream(buf);
    }

    /// The MAC over the encrypted tag block and the ciphertext. libsodium pads the
    /// ciphertext with `(0x10 - 64 + len) & 0xf` zero bytes — `len % 16`, not the complement
    /// to 16 — so the MACed string is not block-aligned and is hashed as one message.
    fn mac(&self, tag_block: &[u8; 64], ciphertext: &[u8]) -> [u8; 16] {
        let mut poly_key = Zeroizing::new([0u8; 64]);
        self.xor(0, &mut poly_key[..]);
        let mut key = [0u8; 32];
        key.copy_from_slice(&poly_key[..32]);
        let poly = Poly1305::new(&key.into());
        key.zeroize();
        let pad = ciphertext.len() % 16;
        let mut input = Vec::with_capacity(64 + ciphertext.len() + pad + 16);
        input.extend_from_slice(tag_block);
        input.extend_from_slice(ciphertext);
        input.resize(input.len() + pad, 0);
        input.extend_from_slice(&0u64.to_le_bytes());
        input.extend_from_slice(&(64 + ciphertext.len() as u64).to_le_bytes());
        poly.compute_unpadded(&input).into()
    }

    /// Keystream block 1 with its first byte replaced by `first`: the block the MAC covers.
    fn tag_block(&self, first: u8) -> [u8; 64] {
        let mut block = [0u8; 64];
        self.xor(1, &mut block);
        block[0] = first;
        block
    }
}

/// One FINAL message under `key` and `header`: `tag ‖ ciphertext ‖ MAC`.
pub fn seal_final(key: &[u8; 32], header: &[u8; HEADER_BYTES], message: &[u8]) -> Vec<u8> {
    let state = MessageState::new(key, header);
    let mut block = [0u8; 64];
    block[0] = TAG_FINAL;
    state.xor(1, &mut block);
    let mut out = Vec::with_capacity(message.len() + ABYTES);
    out.push(block[0]);
    out.extend_from_slice(message);
    state.xor(2, &mut out[1..]);
    let mac = state.mac(&block, &out[1..]);
    out.extend_from_slice(&mac);
    out
}

/// The message of a one-message stream, or `None` when the MAC does not verify (wrong key,
/// damaged data) or the message is not tagged FINAL.
pub fn open_final(
    key: &[u8; 32],
    header: &[u8; HEADER_BYTES],
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < ABYTES {
        return None;
    }
    let (first, rest) = sealed.split_first()?;
    let (ciphertext, mac) = rest.split_at(rest.len() - 16);
    let state = MessageState::new(key, header);
    let block = state.tag_block(*first);
    let expected = state.mac(&block, ciphertext);
    let difference = expected
        .iter()
        .zip(mac)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if difference != 0 {
        return None;
    }
    let mut tag = [*first];
    state.xor(1, &mut tag);
    if tag[0] != TAG_FINAL {
        return None;
    }
    let mut message = Zeroizing::new(ciphertext.to_vec());
    state.xor(2, &mut message);
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_what_it_seals_and_nothing_altered() {
        let key = [7u8; 32];
        let header = [9u8; HEADER_BYTES];
        let sealed = seal_final(&key, &header, b"otpauth://totp/a?secret=AA");
        assert_eq!(sealed.len(), 26 + ABYTES);
        let opened = open_final(&key, &header, &sealed).unwrap();
        assert_eq!(&opened[..], b"otpauth://totp/a?secret=AA");
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert!(open_final(&key, &header, &altered).is_none(), "byte {i}");
        }
        assert!(open_final(&[8u8; 32], &header, &sealed).is_none());
        assert!(open_final(&key, &header, &sealed[..16]).is_none());
        assert_eq!(
            &open_final(&key, &header, &seal_final(&key, &header, b"")).unwrap()[..],
            b""
        );
    }
}
