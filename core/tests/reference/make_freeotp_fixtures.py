"""Writes the FreeOTP 1.x, andOTP (older generations) and TOTP Authenticator import fixtures
with Python's standard library and `cryptography` — independent of Countersign's Rust
readers — following each app's published source (FreeOTP `Token.java` + Android's
SharedPreferences XML, andOTP `EncryptionHelper.java`, Aegis's
`TotpAuthenticatorImporter.java`). Deterministic: fixed keys, IVs and salts. Run once; the
outputs are committed:

    python core/tests/reference/make_freeotp_fixtures.py core/tests/fixtures/import

FreeOTP 2 backups (a Java serialization stream) are written by real Java:
`java core/tests/reference/FreeOtpBackup.java core/tests/fixtures/import/freeotp`.
"""
import base64
import hashlib
import json
import os
import struct
import sys
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

GITHUB = bytes.fromhex("48656c6c6f21deadbeef48656c6c6f21deadbeef")  # JBSWY3DPEHPK3PXP…
BANK = b"12345678901234567890"
VPN = b"abcdefghijklmnopqrst"
STEAM = bytes(range(0x55, 0x55 + 10))


def signed(data):
    return [b - 256 if b > 127 else b for b in data]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)


def prefs_xml(strings):
    """Android's XmlUtils.writeMapXml output for a map of strings."""
    lines = ["<?xml version='1.0' encoding='utf-8' standalone='yes' ?>", "<map>"]
    for name, value in strings:
        attr = escape(name, {'"': "&quot;"})
        lines.append(f'    <string name="{attr}">{escape(value, {chr(34): "&quot;"})}</string>')
    lines.append("</map>")
    return ("\n".join(lines) + "\n").encode()


def freeotp_token(secret, **fields):
    """FreeOTP 1.x Token as Gson writes it (nulls left out)."""
    token = {"algo": "SHA1", "counter": 0, "digits": 6, "issuerExt": "", "label": "",
             "period": 30, "secret": signed(secret), "type": "TOTP"}
    token.update(fields)
    return json.dumps(token, separators=(",", ":"))


def freeotp_v1(folder):
    tokens = [
        ("GitHub:alice@example.com", freeotp_token(GITHUB, issuerExt="GitHub", issuerInt="GitHub",
                                                   label="alice@example.com", image="content://icons/github.png")),
        ("Bank:bob", freeotp_token(BANK, algo="SHA256", digits=8, period=60, issuerExt="Bank", issuerInt="",
                                   label="bob")),
        ("VPN:carol", freeotp_token(VPN, algo="SHA512", type="HOTP", counter=42, issuerInt="VPN",
                                    label="carol")),
        # Renamed in the app: FreeOTP shows issuerAlt/labelAlt.
        ("Old:renamed", freeotp_token(GITHUB, issuerExt="Old", label="renamed", issuerAlt="New & <Improved>",
                                      labelAlt="dave \"the\" user")),
        ("Steam:gaben", freeotp_token(STEAM, issuerExt="Steam", label="gaben", digits=5)),
        ("Broken:md5", freeotp_token(GITHUB, algo="MD5", issuerExt="Broken", label="md5")),
        ("Broken:json", "{not json"),
    ]
    order = json.dumps([name for name, _ in tokens])
    # tokenOrder is written among the tokens, as SharedPreferences' HashMap orders it.
    strings = tokens[:2] + [("tokenOrder", order)] + tokens[2:]
    write(os.path.join(folder, "freeotp", "freeotp-v1-tokens.xml"), prefs_xml(strings))


def andotp_sha256_generation(folder, password):
    """andOTP's older backups: IV(12) ‖ AES-256-GCM under SHA-256(password)."""
    data = open(os.path.join(folder, "andotp.json"), "rb").read()
    key = hashlib.sha256(password.encode()).digest()
    iv = bytes(range(0xA0, 0xAC))
    write(os.path.join(folder, "andotp", "andotp-sha256.json.aes"), iv + AESGCM(key).encrypt(iv, data, None))


def andotp_legacy_labels(folder):
    """The oldest plain backups: no issuer (label `Issuer - Name`), sometimes no type."""
    entries = [
        {"secret": base64.b32encode(GITHUB).decode(), "label": "GitHub - alice@example.com", "period": 30},
        {"secret": base64.b32encode(BANK).decode(), "label": "bob", "digits": 8, "period": 60,
         "type": "TOTP", "algorithm": "SHA256"},
    ]
    write(os.path.join(folder, "andotp", "andotp-legacy.json"), json.dumps(entries, indent=1).encode())


def andotp_pgp(folder):
    """What andOTP writes through OpenKeychain: an ASCII-armoured OpenPGP message (here a
    public-key-encrypted-session-key packet header and filler: it is refused unread)."""
    body = base64.b64encode(bytes([0x85, 0x01, 0x0C, 0x03]) + bytes(range(64))).decode()
    text = f"-----BEGIN PGP MESSAGE-----\n\n{body}\n=AAAA\n-----END PGP MESSAGE-----\n"
    write(os.path.join(folder, "andotp", "andotp.json.gpg"), text.encode())


def totp_auth_entries():
    return [
        {"name": "alice@example.com", "issuer": "GitHub", "key": GITHUB.hex(), "base": 16},
        {"name": "bob", "issuer": "Bank", "key": base64.b32encode(BANK).decode().rstrip("="), "base": 32},
        {"name": "carol", "issuer": "VPN", "key": base64.b64encode(VPN).decode(), "base": 64},
        {"name": "broken", "issuer": "Odd", "key": "00ff", "base": 10},
        {"name": "not hex", "issuer": "Odd", "key": "zz", "base": 16},
    ]


def totp_auth_backup(folder, name, password, as_strings):
    entries = totp_auth_entries()
    if as_strings:  # older releases: each account a JSON string
        entries = [json.dumps(e) for e in entries]
    wrapper = json.dumps({json.dumps(entries): "1700000000000"}).encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(wrapper) + padder.finalize()
    key = hashlib.sha256(password.encode()).digest()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    text = base64.encodebytes(ciphertext)  # wrapped at 76 columns, as Android's Base64.DEFAULT
    write(os.path.join(folder, "totp-authenticator", name), text)


def totp_auth_prefs(folder):
    strings = [("LAST_SYNC", "0"), ("STATIC_TOTP_CODES_LIST", json.dumps(totp_auth_entries()))]
    write(os.path.join(folder, "totp-authenticator", "TOTP_Authenticator_Preferences.xml"), prefs_xml(strings))


def main(folder):
    freeotp_v1(folder)
    andotp_sha256_generation(folder, "andotp-password")
    andotp_legacy_labels(folder)
    andotp_pgp(folder)
    totp_auth_backup(folder, "totp-authenticator-password.bin", "totpauth-password", as_strings=False)
    totp_auth_backup(folder, "totp-authenticator-default.bin", "TotpAuthenticator", as_strings=True)
    totp_auth_prefs(folder)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "core/tests/fixtures/import")
