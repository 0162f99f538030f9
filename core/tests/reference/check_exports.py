"""Decrypts Countersign's encrypted exports with independent libraries, following the
published formats: an Aegis encrypted vault (hashlib.scrypt + cryptography's AES-GCM, as
Aegis's own decrypt script does) and a Countersign backup (docs/backup.md, with libsodium's
Argon2id and XChaCha20-Poly1305 through PyNaCl). Prints the accounts as JSON.

    python check_exports.py aegis FILE PASSWORD
    python check_exports.py backup FILE PASSWORD
"""
import base64
import hashlib
import json
import struct
import sys

import nacl.bindings
import nacl.pwhash
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def aegis(path, password):
    vault = json.load(open(path))
    slot = next(s for s in vault["header"]["slots"] if s["type"] == 1)
    kek = hashlib.scrypt(password.encode(), salt=bytes.fromhex(slot["salt"]), n=slot["n"], r=slot["r"],
                         p=slot["p"], dklen=32, maxmem=2**27)
    params = slot["key_params"]
    master = AESGCM(kek).decrypt(bytes.fromhex(params["nonce"]),
                                 bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"]), None)
    p = vault["header"]["params"]
    db = json.loads(AESGCM(master).decrypt(bytes.fromhex(p["nonce"]),
                                           base64.b64decode(vault["db"]) + bytes.fromhex(p["tag"]), None))
    return [{"issuer": e["issuer"], "label": e["name"], "secret": e["info"]["secret"], "type": e["type"]}
            for e in db["entries"]]


def backup(path, password):
    data = open(path, "rb").read()
    assert data[:8] == b"CSBACKUP" and data[8] == 1
    memory_kib, iterations, parallelism = struct.unpack(">III", data[9:21])
    assert parallelism == 1, "libsodium's Argon2id uses one lane"
    salt, nonce = data[21:37], data[37:61]
    key = nacl.pwhash.argon2id.kdf(32, password.encode(), salt, opslimit=iterations, memlimit=memory_kib * 1024)
    plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(data[61:], data[:61], nonce, key)
    payload = json.loads(plain)
    assert payload["format"] == "countersign-backup"
    return [{"issuer": e["issuer"] or "", "label": e["label"], "secret": e["secret"], "type": e["kind"]["type"]}
            for e in payload["entries"]]


if __name__ == "__main__":
    kind, path, password = sys.argv[1:4]
    print(json.dumps({"aegis": aegis, "backup": backup}[kind](path, password)))
