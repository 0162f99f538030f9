"""Reads an andOTP backup the way andOTP restores it (andOTP `BackupHelper`/
`EncryptionHelper`, `Entry(JSONObject)`), with `hashlib` and `cryptography` — independent of
Countersign's Rust reader. Prints the entries as JSON: issuer, label, secret (hex), type,
algorithm, digits, period (TOTP/Steam, andOTP's default 30 when absent) and counter (HOTP).

    python read_andotp.py FILE            # plain .json
    python read_andotp.py FILE PASSWORD   # .json.aes: iterations ‖ salt ‖ IV ‖ AES-GCM
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def decrypt(data, password):
    (iterations,) = struct.unpack(">I", data[:4])
    assert 140000 <= iterations <= 160000, iterations
    salt, iv, sealed = data[4:16], data[16:28], data[28:]
    key = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations, 32)
    return AESGCM(key).decrypt(iv, sealed, None)


def b32(text):
    text = text.upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def entry(e):
    kind = e.get("type", "TOTP")
    out = {"issuer": e["issuer"], "label": e["label"], "secret": b32(e["secret"]).hex(),
           "type": kind, "algorithm": e["algorithm"], "digits": e["digits"],
           "tags": e["tags"], "thumbnail": e["thumbnail"]}
    if kind == "HOTP":
        out["counter"] = e["counter"]
    else:
        out["period"] = e.get("period", 30)
    return out


def main(path, password=None):
    data = open(path, "rb").read()
    if password is not None:
        data = decrypt(data, password)
    print(json.dumps([entry(e) for e in json.loads(data)]))


if __name__ == "__main__":
    main(*sys.argv[1:])
