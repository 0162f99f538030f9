"""Writes the Authy import fixtures with Python's `cryptography` (PBKDF2-HMAC-SHA1 and
AES-256-CBC with PKCS#7) — an implementation independent of Countersign's — following the
shapes Authy's Android app, its server API and the public export tools produce
(docs/formats/authy.md). Salts and IVs are derived from fixed labels, so the files are
reproducible. Also writes `expected.json`: per fixture, what an importer must read (secrets
as hex, computed here with base64.b32decode / bytes.fromhex). Run once; outputs are committed:

    python core/tests/reference/make_authy_fixtures.py core/tests/fixtures/import/authy
"""
import base64
import hashlib
import json
import os
import sys
from urllib.parse import quote
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PASSWORD = "authy-backup-password"
AUTHENTICATOR_KEY = "com.authy.storage.tokens.authenticator.key"
NATIVE_KEY = "com.authy.storage.tokens.authy.key"


def fixed(label, size):
    """Deterministic bytes for salts and IVs."""
    return hashlib.sha256(label.encode()).digest()[:size]


def salt_text(label):
    """Authy's salts are 32 characters of text; the key uses their UTF-8 bytes."""
    return base64.b32encode(fixed("salt " + label, 20)).decode()[:32].lower()


def encrypt(secret_b32, salt, iterations, iv):
    key = PBKDF2HMAC(hashes.SHA1(), 32, salt.encode(), iterations).derive(PASSWORD.encode())
    padder = padding.PKCS7(128).padder()
    plain = padder.update(secret_b32.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def gson(tokens):
    """JSON as Android's Gson writes it: compact, with `=` escaped as \\u003d."""
    return json.dumps(tokens, separators=(",", ":")).replace("=", "\\u003d")


def preferences(key, tokens, extra=""):
    value = escape(gson(tokens), {'"': "&quot;"})
    return ("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
            '    <int name="key_version" value="121" />\n' + extra +
            f'    <string name="{key}">{value}</string>\n</map>\n')


def account(index, issuer, label, secret, digits, period=30, icon=None, notice=None):
    return {"index": index, "issuer": issuer, "label": label, "secret": secret.hex(),
            "digits": digits, "period": period, "algorithm": "SHA1", "icon": icon,
            "notice": notice}


# The secrets, as raw bytes.
S = [fixed(f"secret {i}", 20) for i in range(8)]
HELLO = b"Hello!\xde\xad\xbe\xef"
NATIVE = [fixed(f"native seed {i}", 16) for i in range(3)]


def plain_storage():
    tokens = [
        {"accountType": "gitlab", "decryptedSecret": b32(S[0]), "digits": 6, "logo": "gitlab",
         "originalIssuer": "GitLab", "originalName": "GitLab:alice@example.com",
         "timestamp": 1700000000, "upload_state": "uploaded", "hidden": False,
         "id": "1700000001", "isNew": False, "name": "GitLab: alice@example.com"},
        {"accountType": "authenticator", "decryptedSecret": b32(S[1]), "digits": 7,
         "originalName": "Proton:bob", "name": "bob", "id": "1700000002"},
        {"accountType": "authenticator", "decryptedSecret": b32(S[2]), "digits": 8,
         "name": "Fastmail - carol", "id": "1700000003"},
        # Lower case with spaces, as users type secrets in.
        {"accountType": "dropbox", "decryptedSecret": " ".join(b32(S[3]).lower()[i:i + 4]
         for i in range(0, 32, 4)), "digits": 6, "name": "dave", "id": "1700000004"},
        # Characters Authy ignores (1, 8) inside the base32.
        {"accountType": "authenticator", "decryptedSecret": "JBSW1Y3DP8EHPK3PXP", "digits": 6,
         "originalIssuer": "Example", "name": "Example: erin", "id": "1700000005"},
        {"accountType": "authenticator", "decryptedSecret": "!!!!", "digits": 6,
         "originalIssuer": "Broken", "name": "Broken: frank", "id": "1700000006"},
        # The same account as the first, once more.
        {"accountType": "gitlab", "decryptedSecret": b32(S[0]), "digits": 6, "logo": "gitlab",
         "originalIssuer": "GitLab", "originalName": "GitLab:alice@example.com",
         "name": "GitLab: alice@example.com", "id": "1700000007"},
    ]
    expected = {
        "accounts": [
            account(0, "GitLab", "alice@example.com", S[0], 6, icon="gitlab"),
            account(1, "Proton", "bob", S[1], 7),
            account(2, "Fastmail", "carol", S[2], 8),
            account(3, "Dropbox", "dave", S[3], 6),
            account(4, "Example", "erin", HELLO, 6, notice="dropped"),
        ],
        "failures": [5], "duplicates": [6],
    }
    return tokens, expected


def encrypted_storage():
    # Token 0: the old format (no IV field: zero IV; no count: 1,000 iterations).
    # Token 1: a per-token IV and count. Token 2: a count of 1,000 stated, zero IV.
    secrets = [S[4], S[5], S[6]]
    settings = [(None, None), (fixed("iv 1", 16), 2000), (None, 1000)]
    tokens, accounts = [], []
    for i, (secret, (iv, iterations)) in enumerate(zip(secrets, settings)):
        salt = salt_text(f"storage {i}")
        ct = encrypt(b32(secret), salt, iterations or 1000, iv or bytes(16))
        token = {"accountType": "authenticator", "digits": [6, 7, 8][i],
                 "encryptedSecret": base64.b64encode(ct).decode(), "salt": salt,
                 "originalIssuer": f"Service{i}", "originalName": f"Service{i}:user{i}",
                 "name": f"Service{i}: user{i}", "id": f"17000001{i}"}
        if iv is not None:
            token["unique_iv"] = iv.hex()
        if iterations is not None:
            token["key_derivation_iterations"] = iterations
        tokens.append(token)
        accounts.append(account(i, f"Service{i}", f"user{i}", secret, [6, 7, 8][i]))
    tokens.append({"accountType": "authenticator", "digits": 6, "encryptedSecret": "not base64!",
                   "salt": salt_text("broken"), "name": "Broken: grace"})
    return tokens, {"accounts": accounts, "failures": [3], "duplicates": []}


def native_storage():
    tokens = [
        {"accountType": "authy", "appId": "5f0c3a", "digits": 7, "name": "Twilio",
         "secretSeed": NATIVE[0].hex(), "serialId": 1, "logo": "twilio"},
        {"accountType": "authy", "appId": "5f0c3b", "digits": 7, "name": "SendGrid",
         "secretSeed": NATIVE[1].hex().upper(), "serialId": 2},
        # Digits come from the data, not assumed.
        {"accountType": "authy", "appId": "5f0c3c", "digits": 6, "name": "Gemini",
         "secretSeed": NATIVE[2].hex(), "serialId": 3},
        {"accountType": "authy", "appId": "5f0c3d", "digits": 7, "name": "Broken",
         "secretSeed": "zz-not-hex", "serialId": 4},
    ]
    expected = {
        "accounts": [
            account(0, "Twilio", "", NATIVE[0], 7, 10, icon="twilio", notice="native"),
            account(1, "SendGrid", "", NATIVE[1], 7, 10, notice="native"),
            account(2, "Gemini", "", NATIVE[2], 6, 10, notice="native"),
        ],
        "failures": [3], "duplicates": [],
    }
    return tokens, expected


def server_tokens():
    """Authy's `authenticator_tokens` response (iOS capture, GDPR export)."""
    settings = [(fixed("server iv 0", 16), 100000), (None, 100000), (None, None)]
    tokens, accounts = [], []
    for i, (iv, iterations) in enumerate(settings):
        secret = S[i]
        salt = salt_text(f"server {i}")
        ct = encrypt(b32(secret), salt, iterations or 100000, iv or bytes(16))
        token = {"account_type": "authenticator", "digits": 6,
                 "encrypted_seed": base64.b64encode(ct).decode(), "issuer": f"Server{i}",
                 "logo": None, "name": f"Server{i}: person{i}", "original_name": f"Server{i}:person{i}",
                 "password_timestamp": 1700000000, "salt": salt, "unique_id": f"90000{i}",
                 "unique_iv": iv.hex() if iv else None}
        if iterations is None:
            del token["unique_iv"]
        else:
            token["key_derivation_iterations"] = iterations
        tokens.append(token)
        accounts.append(account(i, f"Server{i}", f"person{i}", secret, 6))
    deleted = dict(tokens[0], name="Deleted: old", unique_id="900099")
    file = {"authenticator_tokens": tokens, "deleted": [deleted], "message": "success",
            "success": True}
    return file, {"accounts": accounts, "failures": [], "duplicates": []}


def decrypted_tokens():
    """The `decrypted_tokens.json` the public decrypt scripts write."""
    tokens = [
        {"account_type": "github", "name": "octocat", "issuer": "GitHub",
         "decrypted_seed": b32(S[6]), "digits": 6, "logo": "github", "unique_id": "1"},
        {"account_type": "authenticator", "name": "Mastodon: @zoe", "issuer": None,
         "decrypted_seed": b32(S[7]), "digits": 8, "logo": None, "unique_id": "2"},
        {"account_type": "authenticator", "name": "Broken", "issuer": None,
         "decrypted_seed": "Decryption failed: Invalid padding length", "digits": 6,
         "logo": None, "unique_id": "3"},
    ]
    file = {"message": "success", "decrypted_authenticator_tokens": tokens, "success": True}
    expected = {
        "accounts": [
            account(0, "GitHub", "octocat", S[6], 6, icon="github"),
            account(1, "Mastodon", "@zoe", S[7], 8),
        ],
        "failures": [2], "duplicates": [],
    }
    return file, expected


def desktop_export():
    """Authy Desktop's console export (the widely shared gist): name, base32 secret, URI."""
    def entry(name, raw, digits, period):
        uri = f"otpauth://totp/{quote(name)}?secret={b32(raw)}&digits={digits}&period={period}"
        return {"name": name, "secret": b32(raw), "uri": uri}
    tokens = [
        entry("Cloudflare:ada@example.com", S[5], 6, 30),
        entry("Twilio", NATIVE[0], 7, 10),
        {"name": "broken", "secret": "AA", "uri": "otpauth://hotp/broken"},
    ]
    expected = {
        "accounts": [
            account(0, "Cloudflare", "ada@example.com", S[5], 6),
            account(1, "Twilio", "", NATIVE[0], 7, 10, notice="native"),
        ],
        "failures": [2], "duplicates": [],
    }
    return tokens, expected


def hostile(folder):
    # A count far past any app's: refused before a derivation runs.
    file, _ = server_tokens()
    file["authenticator_tokens"][0]["key_derivation_iterations"] = 4_000_000_000
    write(folder, "hostile-iterations.json", json.dumps(file, indent=1))
    # 16 tokens at 2,000,000 iterations each (each within the bound of one derivation):
    # 32 million in all, more than one import may run.
    token = file["authenticator_tokens"][1]
    token = {k: token[k] for k in ("encrypted_seed", "salt", "name")}
    many = {"authenticator_tokens": [dict(token, key_derivation_iterations=2_000_000)] * 16}
    write(folder, "hostile-many-tokens.json", json.dumps(many))


def write(folder, name, text):
    with open(os.path.join(folder, name), "w", newline="\n") as out:
        out.write(text)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    expected = {}
    tokens, expected["authenticator-plain.xml"] = plain_storage()
    write(folder, "authenticator-plain.xml", preferences(AUTHENTICATOR_KEY, tokens))
    write(folder, "authenticator-plain.json", json.dumps(tokens, indent=2))
    expected["authenticator-plain.json"] = expected["authenticator-plain.xml"]
    tokens, expected["authenticator-encrypted.xml"] = encrypted_storage()
    encrypted = preferences(AUTHENTICATOR_KEY, tokens)
    write(folder, "authenticator-encrypted.xml", encrypted)
    write(folder, "truncated.xml", encrypted[: len(encrypted) // 2])
    tokens, expected["native.xml"] = native_storage()
    write(folder, "native.xml", preferences(NATIVE_KEY, tokens))
    file, expected["server-tokens.json"] = server_tokens()
    server = json.dumps(file, indent=2)
    write(folder, "server-tokens.json", server)
    write(folder, "truncated.json", server[: len(server) // 2])
    file, expected["decrypted-tokens.json"] = decrypted_tokens()
    write(folder, "decrypted-tokens.json", json.dumps(file, indent=2))
    tokens, expected["desktop-export.json"] = desktop_export()
    write(folder, "desktop-export.json", json.dumps(tokens, indent=2))
    hostile(folder)
    write(folder, "expected.json", json.dumps(expected, indent=1) + "\n")
    # docs/formats/authy.md's worked vector: token 1 of the encrypted storage file.
    t = encrypted_storage()[0][1]
    print("vector: password", PASSWORD, "salt", t["salt"], "iterations",
          t["key_derivation_iterations"], "iv", t["unique_iv"], "ciphertext",
          base64.b64decode(t["encryptedSecret"]).hex(), "secret", b32(S[5]))


if __name__ == "__main__":
    main(sys.argv[1])
