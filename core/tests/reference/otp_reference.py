"""Independent reference for the differential tests: pyotp for HOTP/TOTP, oath for OCRA.

Reads one JSON request per line on stdin, writes one code per line on stdout.
"""
import base64
import hashlib
import json
import sys
import unicodedata
import urllib.parse

import oath
import pyotp

DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def b32(secret_hex):
    return base64.b32encode(bytes.fromhex(secret_hex)).decode()


def answer(req):
    kind = req["kind"]
    if kind == "totp":
        totp = pyotp.TOTP(b32(req["key"]), digits=req["digits"],
                          digest=DIGESTS[req["algorithm"]], interval=req["period"])
        return totp.at(req["time"])
    if kind == "hotp":
        hotp = pyotp.HOTP(b32(req["key"]), digits=req["digits"], digest=DIGESTS[req["algorithm"]])
        return hotp.at(req["counter"])
    if kind == "ocra":
        suite = oath.str2ocrasuite(req["suite"])
        args = {"Q": req["challenge"]}
        if req.get("counter") is not None:
            args["C"] = req["counter"]
        if req.get("pin") is not None:
            args["P"] = req["pin"]
        if req.get("time_steps") is not None:
            args["T_precomputed"] = req["time_steps"]
        return suite(bytes.fromhex(req["key"]), **args)
    if kind == "transactional":
        canonical = canonical_string(req["txotp"])
        challenge = hashlib.sha256(canonical.encode("ascii")).hexdigest()
        suite = "OCRA-1:HOTP-%s-%d:QH64-T%dS" % (req["algorithm"], req["digits"], req["period"])
        code = oath.str2ocrasuite(suite)(bytes.fromhex(req["key"]), Q=challenge,
                                         T_precomputed=req["time"] // req["period"])
        return code + " " + canonical
    raise ValueError(kind)


def enc(text):
    """docs/transactional-totp.md: NFC, UTF-8, percent-encode all but A-Z a-z 0-9 - . _ ~"""
    return urllib.parse.quote(unicodedata.normalize("NFC", text).encode("utf-8"), safe="-._~")


def canonical_string(txotp):
    """Parses a txotp:// string with the standard library and builds the canonical string."""
    query = urllib.parse.urlsplit(txotp).query
    message, details, hidden = None, [], []
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True):
        if name == "message":
            message = value
        elif name.startswith("details[") and name.endswith("]"):
            details.append((enc(name[len("details["):-1]), enc(value)))
        elif name.startswith("hidden_details[") and name.endswith("]"):
            hidden.append((enc(name[len("hidden_details["):-1]), enc(value)))
        else:
            raise ValueError(name)
    out = "message=" + enc(message)
    out += "".join("&details[%s]=%s" % kv for kv in sorted(details))
    out += "".join("&hidden_details[%s]=%s" % kv for kv in sorted(hidden))
    return out


def main():
    out = sys.stdout
    for line in sys.stdin:
        out.write(answer(json.loads(line)) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
