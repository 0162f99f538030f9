"""ES256 JWS with Python's `cryptography`, independent of Countersign's implementation.

    python check_es256.py verify SPKI_B64URL JWS      -> prints "valid" or "invalid"
    python check_es256.py make PAYLOAD                -> prints SPKI_B64URL and a JWS, one per line
    python check_es256.py content MESSAGE_JSON        -> displayed content and hidden hash (JSON in/out)
"""
import base64
import hashlib
import json
import sys
import unicodedata
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(spki, jws):
    key = serialization.load_der_public_key(unb64(spki))
    header, payload, signature = jws.split(".")
    raw = unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, (header + "." + payload).encode(), ec.ECDSA(hashes.SHA256()))
        return "valid"
    except InvalidSignature:
        return "invalid"


def make(payload):
    key = ec.generate_private_key(ec.SECP256R1())
    header = b64(json.dumps({"alg": "ES256", "typ": "countersign-answer+jws", "kid": "python"}).encode())
    body = b64(payload.encode())
    r, s = decode_dss_signature(key.sign((header + "." + body).encode(), ec.ECDSA(hashes.SHA256())))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64(spki) + "\n" + header + "." + body + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def enc(text):
    return urllib.parse.quote(unicodedata.normalize("NFC", text).encode(), safe="-._~")


def content(request):
    shown = "message=" + enc(request["message"]) + "".join("&%s=%s" % (enc(k), enc(v)) for k, v in request["details"])
    hidden = "&".join("%s=%s" % kv for kv in sorted((enc(k), enc(v)) for k, v in request["hidden"]))
    return json.dumps({"content": shown, "content_sha256": hashlib.sha256(shown.encode()).hexdigest(),
                       "hidden_details_sha256": hashlib.sha256(hidden.encode()).hexdigest()})


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "verify":
        print(verify(sys.argv[2], sys.argv[3]))
    elif kind == "make":
        print(make(sys.argv[2]))
    else:
        print(content(json.loads(sys.argv[2])))
