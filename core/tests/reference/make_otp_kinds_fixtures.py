"""Writes core/tests/fixtures/import/otp-kinds/: a plain Aegis vault with Yandex.Key and mOTP
entries (Aegis's `yandex` and `motp` types, PIN in `info.pin`), broken ones beside them, and
the codes the independent reference (otp_kinds_reference.py) computes for each at a fixed
time. Deterministic: rerunning rewrites the same bytes.

    python make_otp_kinds_fixtures.py
"""
import base64
import json
import os
import random

from otp_kinds_reference import motp_code, yandex_code, yandex_full_secret

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "import", "otp-kinds")
TIME = 1_700_000_123


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def entry(kind, issuer, name, secret: bytes, **info):
    body = {"secret": b32(secret)}
    body.update(info)
    return {"type": kind, "uuid": "00000000-0000-4000-8000-%012d" % entry.count, "name": name,
            "issuer": issuer, "note": "", "favorite": False, "icon": None, "info": body, "groups": []}


entry.count = 0


def main():
    rng = random.Random(13)
    # Aegis's published Yandex vector secret (YAOTPTest.java), kept in its 26-byte form.
    published = base64.b32decode("LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI" + "======")
    random_key = bytes(rng.randrange(256) for _ in range(16))
    full = yandex_full_secret(random_key, bytes(rng.randrange(256) for _ in range(8)), 5)
    motp_published = bytes.fromhex("e3152afee62599c8")  # Aegis MOTPTest.java
    motp_random = bytes(rng.randrange(256) for _ in range(16))
    totp_key = bytes(rng.randrange(256) for _ in range(20))
    broken_checksum = bytearray(full)
    broken_checksum[3] ^= 0x10

    good = [
        # (kind, issuer, name, secret as written, key the code uses, pin)
        ("yandex", "Yandex", "alice@yandex.ru", published, published[:16], "7586"),
        ("yandex", "Yandex", "bob@yandex.ru", full, full[:16], "0123456789"),
        ("yandex", "", "carol", random_key, random_key, "44445555666677"),
        ("motp", "Example", "dave", motp_published, motp_published, "1234"),
        ("motp", "Lab VPN", "erin", motp_random, motp_random, "9999"),
    ]
    entries, expected = [], []
    for kind, issuer, name, written, key, pin in good:
        entry.count += 1
        if kind == "yandex":
            info = {"algo": "SHA256", "digits": 8, "period": 30, "pin": pin}
            code = yandex_code(key, pin, TIME)
        else:
            info = {"algo": "MD5", "digits": 6, "period": 10, "pin": pin}
            code = motp_code(key, pin, TIME)
        entries.append(entry(kind, issuer, name, written, **info))
        expected.append({"index": len(entries) - 1, "type": kind, "issuer": issuer, "label": name,
                         "secret_hex": key.hex(), "pin": pin, "code": code})
    entry.count += 1
    entries.append(entry("totp", "Plain", "frank", totp_key, algo="SHA1", digits=6, period=30))
    broken = [
        ("yandex", "Broken", "no pin", random_key, {"algo": "SHA256", "digits": 8, "period": 30}),
        ("motp", "Broken", "empty pin", motp_random, {"algo": "MD5", "digits": 6, "period": 10, "pin": ""}),
        ("yandex", "Broken", "bad checksum", bytes(broken_checksum), {"pin": "1234"}),
        ("yandex", "Broken", "20 bytes", totp_key, {"pin": "1234"}),
    ]
    failures = []
    for kind, issuer, name, secret, info in broken:
        entry.count += 1
        entries.append(entry(kind, issuer, name, secret, **info))
        failures.append(len(entries) - 1)

    vault = {"version": 1, "header": {"slots": None, "params": None},
             "db": {"version": 3, "entries": entries, "groups": []}}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "aegis-pin-kinds.json"), "w") as f:
        json.dump(vault, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "aegis-pin-kinds.expected.json"), "w") as f:
        json.dump({"time": TIME, "accounts": expected, "totp_index": 5,
                   "failures": failures}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
