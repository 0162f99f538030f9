#!/usr/bin/env python3
"""Writes the small-parameter seeds of the `transfer` fuzz target (seeds/transfer/): the
Aegis and andOTP fixtures re-encrypted with the smallest key-derivation settings the
fuzzer's budget admits, under the passwords the target uses. Needs `cryptography`."""
import base64, hashlib, json, os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

seeds = Path(__file__).parent / "seeds" / "transfer"
fixtures = Path(__file__).parent.parent / "tests" / "fixtures" / "import"

db = json.dumps(json.loads((fixtures / "aegis-plain.json").read_text())["db"]).encode()
master, salt = os.urandom(32), os.urandom(32)
n, r, p = 1024, 8, 1
kek = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(b"aegis-password")
key_nonce, db_nonce = os.urandom(12), os.urandom(12)
wrapped = AESGCM(kek).encrypt(key_nonce, master, None)
sealed = AESGCM(master).encrypt(db_nonce, db, None)
slot = {"type": 1, "uuid": "seed", "key": wrapped[:-16].hex(),
        "key_params": {"nonce": key_nonce.hex(), "tag": wrapped[-16:].hex()},
        "n": n, "r": r, "p": p, "salt": salt.hex()}
vault = {"version": 1,
         "header": {"slots": [slot], "params": {"nonce": db_nonce.hex(), "tag": sealed[-16:].hex()}},
         "db": base64.b64encode(sealed[:-16]).decode()}
(seeds / "aegis-encrypted-small.json").write_text(json.dumps(vault))

iterations, salt, iv = 1000, os.urandom(12), os.urandom(12)
key = hashlib.pbkdf2_hmac("sha1", b"andotp-password", salt, iterations, 32)
sealed = AESGCM(key).encrypt(iv, (fixtures / "andotp.json").read_bytes(), None)
(seeds / "andotp-small.json.aes").write_bytes(iterations.to_bytes(4, "big") + salt + iv + sealed)
