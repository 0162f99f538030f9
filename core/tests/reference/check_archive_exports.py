"""Reads Countersign's Ente, 2FAS and Bitwarden exports with independent libraries, following
the formats as the apps publish them (docs/formats/archives-ente-exports.md), and prints
what they hold as JSON:

    python check_archive_exports.py ente FILE [PASSWORD]       -> [{uri, tags, note}, …]
    python check_archive_exports.py 2fas FILE [PASSWORD]       -> [{name, secret, …}, …]
    python check_archive_exports.py bitwarden FILE             -> [{name, username, totp, …}, …]

Ente: Argon2id through libsodium (PyNaCl's nacl.pwhash.argon2id, memLimit bytes / opsLimit)
and libsodium's own crypto_secretstream_xchacha20poly1305 pull, one message tagged FINAL.
2FAS: PBKDF2-HMAC-SHA256 (10,000 iterations, hashlib) and AES-256-GCM (cryptography); the
`reference` field must decrypt to 2FAS's reference text.
"""
import base64
import hashlib
import json
import sys
import urllib.parse

import nacl.bindings as sodium
import nacl.pwhash
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TWOFAS_REFERENCE = (
    "tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3Hk"
    "dGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnD"
    "lGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXU7KyoJujd")


def ente(path, password):
    data = open(path, "rb").read()
    if password is None:
        text = data.decode()
    else:
        envelope = json.loads(data)
        assert envelope["version"] == 1
        kdf = envelope["kdfParams"]
        key = nacl.pwhash.argon2id.kdf(32, password.encode(), base64.b64decode(kdf["salt"]),
                                       opslimit=kdf["opsLimit"], memlimit=kdf["memLimit"])
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(
            state, base64.b64decode(envelope["encryptionNonce"]), key)
        message, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
            state, base64.b64decode(envelope["encryptedData"]))
        assert tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
        text = message.decode()
    return [ente_line(line) for line in text.splitlines() if line.strip()]


def ente_line(line):
    """The URI without Ente's codeDisplay, and that parameter's tags and note (read as Dart's
    Uri.queryParameters does: form-decoded, then JSON)."""
    base, _, query = line.partition("?")
    kept, display = [], {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "codeDisplay":
            display = json.loads(urllib.parse.unquote_plus(value))
        else:
            kept.append(pair)
    return {"uri": base + "?" + "&".join(kept), "tags": display.get("tags", []),
            "note": display.get("note", "")}


def twofas_open(field, password):
    ciphertext, salt, iv = (base64.b64decode(part) for part in field.split(":"))
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10000, 32)
    return AESGCM(key).decrypt(iv, ciphertext, None)


def twofas(path, password):
    backup = json.load(open(path))
    assert backup["schemaVersion"] == 4
    if password is None:
        assert "servicesEncrypted" not in backup
        services = backup["services"]
    else:
        assert backup["services"] == []
        assert twofas_open(backup["reference"], password).decode() == TWOFAS_REFERENCE
        services = json.loads(twofas_open(backup["servicesEncrypted"], password))
    groups = {g["id"]: g["name"] for g in backup["groups"]}
    return [{"name": s["name"], "secret": s["secret"], "account": s["otp"]["account"],
             "tokenType": s["otp"]["tokenType"], "algorithm": s["otp"]["algorithm"],
             "digits": s["otp"]["digits"], "period": s["otp"]["period"],
             "counter": s["otp"].get("counter"), "group": groups.get(s.get("groupId"))}
            for s in services]


def bitwarden(path):
    export = json.load(open(path))
    assert export["encrypted"] is False
    folders = {f["id"]: f["name"] for f in export["folders"]}
    return [{"name": i["name"], "username": i["login"]["username"], "totp": i["login"]["totp"],
             "folder": folders.get(i["folderId"]), "favorite": i["favorite"],
             "notes": i["notes"]}
            for i in export["items"] if i["type"] == 1]


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    password = sys.argv[3] if len(sys.argv) > 3 else None
    result = {"ente": lambda: ente(path, password), "2fas": lambda: twofas(path, password),
              "bitwarden": lambda: bitwarden(path)}[kind]()
    print(json.dumps(result))
