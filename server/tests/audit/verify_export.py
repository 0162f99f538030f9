"""An independent verifier of a Countersign audit export (docs/audit.md), written from the
document alone: it re-encodes every entry, recomputes its SHA-256, follows the chain and checks
each ES256 signature with the `cryptography` package against the export's public key.

Usage: verify_export.py EXPORT [PUBLIC_KEY_PEM]
Prints {"ok": true, "entries": N, "head": "SEQ:HASH"} or {"ok": false, "seq": S, "reason": ...}
and exits 0 or 1.
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

FORMAT = "countersign-audit-v1"


def netstring(data: bytes) -> bytes:
    return str(len(data)).encode() + b":" + data + b","


def encoding(entry: dict) -> bytes:
    fields = [
        FORMAT,
        str(entry["seq"]),
        str(entry["time"]),
        entry["actor"],
        entry["action"],
        entry["subject"],
        entry["details"],
        entry["prev_hash"],
    ]
    return b"".join(netstring(f.encode("utf-8")) for f in fields)


def signature_ok(key, entry: dict) -> bool:
    text = entry["signature"]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, encoding(entry), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def verify(lines, key):
    previous = None
    expected_seq = None
    count = 0
    for entry in lines:
        seq = entry["seq"]
        if expected_seq is None:
            # An export may start anywhere; from seq 1 its predecessor is the genesis hash.
            expected_seq = seq
            previous = "0" * 64 if seq == 1 else entry["prev_hash"]
        if seq != expected_seq:
            return {"ok": False, "seq": expected_seq, "reason": "gap"}
        if hashlib.sha256(encoding(entry)).hexdigest() != entry["hash"]:
            return {"ok": False, "seq": seq, "reason": "hash"}
        if entry["prev_hash"] != previous:
            return {"ok": False, "seq": seq, "reason": "link"}
        if not signature_ok(key, entry):
            return {"ok": False, "seq": seq, "reason": "signature"}
        previous = entry["hash"]
        expected_seq = seq + 1
        count += 1
    head = f"{expected_seq - 1}:{previous}" if count else ""
    return {"ok": True, "entries": count, "head": head}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as export:
        header = json.loads(export.readline())
        entries = [json.loads(line) for line in export if line.strip()]
    if header.get("format") != FORMAT:
        print(json.dumps({"ok": False, "seq": 0, "reason": "format"}))
        return 1
    pem = header["public_key_pem"]
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="ascii") as trusted:
            pem = trusted.read()
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        print(json.dumps({"ok": False, "seq": 0, "reason": "key"}))
        return 1
    jwk = header["public_key_jwk"]
    numbers = key.public_numbers()
    if (
        base64.urlsafe_b64decode(jwk["x"] + "==") != numbers.x.to_bytes(32, "big")
        or base64.urlsafe_b64decode(jwk["y"] + "==") != numbers.y.to_bytes(32, "big")
    ):
        print(json.dumps({"ok": False, "seq": 0, "reason": "jwk"}))
        return 1
    result = verify(entries, key)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
