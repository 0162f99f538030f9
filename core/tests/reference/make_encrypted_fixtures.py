"""Writes the encrypted import fixtures from the plain ones, with Python's `cryptography`
and `hashlib` — an implementation independent of Countersign's — following each app's
published format. Run once; the outputs are committed:

    python core/tests/reference/make_encrypted_fixtures.py core/tests/fixtures/import
"""
import base64
import hashlib
import json
import os
import struct
import sys
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def aegis(folder, password):
    plain = json.load(open(os.path.join(folder, "aegis-plain.json")))
    master = os.urandom(32)
    salt = os.urandom(32)
    kek = hashlib.scrypt(password.encode(), salt=salt, n=2**15, r=8, p=1, dklen=32, maxmem=2**26)
    key_nonce = os.urandom(12)
    wrapped = AESGCM(kek).encrypt(key_nonce, master, None)
    db_nonce = os.urandom(12)
    sealed = AESGCM(master).encrypt(db_nonce, json.dumps(plain["db"]).encode(), None)
    vault = {
        "version": 1,
        "header": {
            "slots": [{"type": 1, "uuid": str(uuid.uuid4()), "key": wrapped[:-16].hex(),
                       "key_params": {"nonce": key_nonce.hex(), "tag": wrapped[-16:].hex()},
                       "n": 2**15, "r": 8, "p": 1, "salt": salt.hex(), "repaired": True, "is_backup": False}],
            "params": {"nonce": db_nonce.hex(), "tag": sealed[-16:].hex()},
        },
        "db": base64.b64encode(sealed[:-16]).decode(),
    }
    json.dump(vault, open(os.path.join(folder, "aegis-encrypted.json"), "w"), indent=2)


def twofas(folder, password):
    plain = json.load(open(os.path.join(folder, "2fas-plain.2fas")))
    def seal(data):
        salt, iv = os.urandom(256), os.urandom(12)
        key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10000, 32)
        ct = AESGCM(key).encrypt(iv, data, None)
        return ":".join(base64.b64encode(x).decode() for x in (ct, salt, iv))
    out = dict(plain)
    out["servicesEncrypted"] = seal(json.dumps(plain["services"]).encode())
    out["reference"] = seal(b"tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3HkdGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnDlGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXU7KyoJujd")
    out["services"] = []
    json.dump(out, open(os.path.join(folder, "2fas-encrypted.2fas"), "w"), indent=2)


def andotp(folder, password):
    data = open(os.path.join(folder, "andotp.json"), "rb").read()
    iterations, salt, iv = 150000, os.urandom(12), os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations, 32)
    blob = struct.pack(">I", iterations) + salt + iv + AESGCM(key).encrypt(iv, data, None)
    open(os.path.join(folder, "andotp.json.aes"), "wb").write(blob)


if __name__ == "__main__":
    folder = sys.argv[1]
    aegis(folder, "aegis-password")
    twofas(folder, "2fas-password")
    andotp(folder, "andotp-password")
