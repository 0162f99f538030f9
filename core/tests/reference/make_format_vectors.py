"""Test vectors for docs/vault.md and docs/backup.md, computed with libsodium (PyNaCl), an
implementation independent of Countersign's. Deterministic: fixed keys, salts and nonces.

    python core/tests/reference/make_format_vectors.py
"""
import json
import struct

import nacl.bindings
import nacl.pwhash


def field(b):
    return struct.pack(">I", len(b)) + b


def record_vector():
    key = bytes(range(32))
    vault_id = bytes.fromhex("00112233445566778899aabbccddeeff")
    record_id = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")
    revision = 3
    nonce = bytes(range(100, 124))
    aad = b"countersign-vault-record-v1\x00" + field(vault_id) + field(record_id) + struct.pack(">QQ", 1, revision)
    plaintext = json.dumps({"issuer": "Gringotts Bank", "label": "hermione@hogwarts.example",
                            "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "algorithm": "SHA1", "digits": 7,
                            "kind": {"type": "totp", "period": 30}, "tags": ["bank"], "notes": "", "icon": None},
                           separators=(",", ":")).encode()
    ct = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    print("vector: record")
    for name, value in [("key", key), ("vault_id", vault_id), ("record_id", record_id)]:
        print(f"{name}: {value.hex()}")
    print(f"revision: {revision}\nnonce: {nonce.hex()}\naad: {aad.hex()}\nplaintext: {plaintext.decode()}\nciphertext: {ct.hex()}\n")


def backup_vector():
    passphrase = b"correct horse battery staple"
    memory_kib, iterations = 19456, 2
    salt = bytes(range(16))
    nonce = bytes(range(24))
    payload = json.dumps({"format": "countersign-backup", "version": 1, "created_at": 1795000000, "entries": [
        {"issuer": "GitHub", "label": "alice@example.com", "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
         "algorithm": "SHA1", "digits": 6, "kind": {"type": "totp", "period": 30}, "tags": ["work"], "notes": "", "icon": None},
        {"issuer": None, "label": "vpn", "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "algorithm": "SHA512",
         "digits": 8, "kind": {"type": "hotp", "counter": 42}, "tags": [], "notes": "desk token", "icon": None}]},
        separators=(",", ":")).encode()
    key = nacl.pwhash.argon2id.kdf(32, passphrase, salt, opslimit=iterations, memlimit=memory_kib * 1024)
    header = b"CSBACKUP" + bytes([1]) + struct.pack(">III", memory_kib, iterations, 1) + salt + nonce
    ct = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(payload, header, nonce, key)
    print("vector: backup")
    print(f"passphrase: {passphrase.decode()}\nkey: {key.hex()}\nfile: {(header + ct).hex()}\npayload: {payload.decode()}\n")


if __name__ == "__main__":
    record_vector()
    backup_vector()
