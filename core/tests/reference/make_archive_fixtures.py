"""Writes the archive fixtures (docs/formats/archives-ente-exports.md) independently of the
Rust importers, deterministically (fixed salts, nonces, headers and timestamps):

- raivo/raivo-otp-export.zip: Raivo OTP's export, a WinZip-AES zip (pyzipper, as SSZipArchive
  writes it) holding raivo-otp-export.json and raivo-otp-export.html.
- authenticator-plus/authenticator-plus.zip: a ZipCrypto zip holding backup/Accounts.txt
  (otpauth URIs), encrypted by the PKWARE algorithm written out below from APPNOTE 6.1.
- archive hostile files: too many entries, an entry claiming 4 GiB, an entry lying about its
  size that inflates to 64 MiB, a truncated archive.
- ente/ente-encrypted.json: Ente Auth's encrypted export (PyNaCl: libsodium's Argon2id and
  crypto_secretstream_xchacha20poly1305), small KDF settings so tests stay fast; and
  ente/ente-hostile-kdf.json asking for 4 GiB.

    python make_archive_fixtures.py OUT_DIR   (OUT_DIR: core/tests/fixtures/import)
"""
import base64
import json
import os
import struct
import sys
import zipfile
import zlib

import nacl.bindings as sodium
import nacl.pwhash
import pyzipper

DATE = (2024, 5, 1, 12, 0, 0)
RAIVO_PASSWORD = "raivo-password"
AUTHPLUS_PASSWORD = "authplus-password"
ENTE_PASSWORD = "ente-password"

RAIVO_TOKENS = [
    {"kind": "TOTP", "issuer": "GitHub", "account": "alice@example.com",
     "secret": "JBSWY3DPEHPK3PXP", "algorithm": "SHA1", "digits": "6", "timer": "30",
     "counter": "0", "pinned": "false", "iconType": "", "iconValue": ""},
    {"kind": "TOTP", "issuer": "Fastmail", "account": "bob",
     "secret": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "algorithm": "SHA256", "digits": "8",
     "timer": "60", "counter": "0", "pinned": "true", "iconType": "raivo_repository",
     "iconValue": "fastmail.svg"},
    {"kind": "HOTP", "issuer": "Bank", "account": "carol", "secret": "MFRGGZDFMZTWQ2LK",
     "algorithm": "SHA512", "digits": "7", "timer": "30", "counter": "42", "pinned": "false",
     "iconType": "", "iconValue": ""},
    # Broken: not base32; an unknown kind. Reported with their index, the others imported.
    {"kind": "TOTP", "issuer": "Broken", "account": "dave", "secret": "not base32!",
     "algorithm": "SHA1", "digits": "6", "timer": "30", "counter": "0"},
    {"kind": "MOBILE", "issuer": "Odd", "account": "erin", "secret": "JBSWY3DPEHPK3PXP",
     "algorithm": "SHA1", "digits": "6", "timer": "30", "counter": "0"},
]

AUTHPLUS_LINES = [
    "otpauth://totp/Dropbox:frank@example.com?secret=KRSXG5CTMVRXEZLU&issuer=Dropbox",
    "otpauth://hotp/Work:grace?secret=ONSWG4TFOQ======&counter=5&digits=8&algorithm=SHA256&issuer=Work",
    "otpauth://totp/heidi?secret=MZXW6YTBOI======&period=45",
    "this line is not an otpauth URI",
]

ENTE_LINES = [
    "otpauth://totp/Proton:ivan@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Proton&algorithm=SHA1&digits=6&period=30"
    "&codeDisplay=%7B%22pinned%22%3Afalse%2C%22tags%22%3A%5B%22Mail%22%5D%2C%22note%22%3A%22backup+codes%22%7D",
    "otpauth://hotp/Vpn:judy?secret=GEZDGNBVGY3TQOJQ&issuer=Vpn&algorithm=SHA512&digits=8&counter=3",
    "otpauth://steam/Steam:mallory?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
    "otpauth://totp/Broken?secret=1",
    # A valid account whose codeDisplay is not JSON: imported, with a notice.
    "otpauth://totp/Odd:oscar?secret=ONSWG4TFOQ======&issuer=Odd&codeDisplay=%7Bbroken",
]


class FixedRandom:
    """pyzipper draws WinZip-AES salts from Cryptodome's Random: fixed here."""

    class _Source:
        def read(self, n):
            return bytes(range(1, n + 1))

    @staticmethod
    def new():
        return FixedRandom._Source()


def raivo_zip():
    pyzipper.zipfile_aes.Random = FixedRandom
    path = os.path.join(OUT, "raivo", "raivo-otp-export.zip")
    with pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as z:
        z.setpassword(RAIVO_PASSWORD.encode())
        for name, text in [("raivo-otp-export.json", json.dumps(RAIVO_TOKENS)),
                           ("raivo-otp-export.html", "<html><body>Raivo OTP export</body></html>")]:
            info = z.zipinfo_cls(name, date_time=DATE)
            info.compress_type = pyzipper.ZIP_DEFLATED
            z.writestr(info, text)
    data = open(path, "rb").read()
    write("raivo/raivo-truncated.zip", data[: len(data) // 2])


# --- ZipCrypto (APPNOTE 6.1 "Traditional PKWARE Encryption") -------------------------------

def _crc_byte(crc, byte):
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


class ZipCrypto:
    def __init__(self, password):
        self.k = [0x12345678, 0x23456789, 0x34567890]
        for b in password:
            self.update(b)

    def update(self, b):
        k0, k1, k2 = self.k
        k0 = _crc_byte(k0, b)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, k1 >> 24)
        self.k = [k0, k1, k2]

    def encrypt(self, data):
        out = bytearray()
        for p in data:
            t = (self.k[2] | 2) & 0xFFFF
            out.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
            self.update(p)
        return bytes(out)


def zip_entries(entries, password=None):
    """A zip written by hand: [(name, plaintext, sizes_override)], deflated, ZipCrypto when a
    password is given. `sizes_override` replaces the declared uncompressed size."""
    dos_time = (DATE[3] << 11) | (DATE[4] << 5) | (DATE[5] // 2)
    dos_date = ((DATE[0] - 1980) << 9) | (DATE[1] << 5) | DATE[2]
    local, central = bytearray(), bytearray()
    for name, plain, declared in entries:
        crc = zlib.crc32(plain)
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = compressor.compress(plain) + compressor.flush()
        flags = 0
        if password is not None:
            header = bytes(range(11)) + bytes([crc >> 24])
            body = ZipCrypto(password.encode()).encrypt(header + body)
            flags = 1
        size = len(plain) if declared is None else declared
        fields = struct.pack("<HHHHHIII", 20, flags, 8, dos_time, dos_date, crc, len(body), size)
        offset = len(local)
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name.encode() + body
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name.encode())
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                      len(local), 0)
    return bytes(local + central + end)


def authplus_zip():
    accounts = ("\n".join(AUTHPLUS_LINES) + "\n").encode()
    write("authenticator-plus/authenticator-plus.zip",
          zip_entries([("backup/Accounts.txt", accounts, None),
                       ("backup/settings.txt", b"theme=dark\n", None)], AUTHPLUS_PASSWORD))


def hostile_zips():
    write("authenticator-plus/too-many-entries.zip",
          zip_entries([(f"{i}.txt", b"x", None) for i in range(100)] +
                      [("Accounts.txt", b"", None)]))
    # One entry, and an end record claiming 65,000 (the parser would reserve room for them).
    crowded = bytearray(zip_entries([("Accounts.txt", b"otpauth://totp/a?secret=AA\n", None)]))
    crowded[-14:-10] = struct.pack("<HH", 65000, 65000)
    write("authenticator-plus/claims-65000-entries.zip", bytes(crowded))
    # A few bytes that claim 4 GiB once inflated (the declared size is checked first).
    write("authenticator-plus/claims-4-gib.zip",
          zip_entries([("Accounts.txt", b"otpauth://totp/a?secret=AA\n", 0xFFFFFFFE)]))
    # 64 MiB of zeros (64 KiB deflated) declared as 100 bytes: stopped while inflating.
    write("authenticator-plus/inflates-64-mib.zip",
          zip_entries([("Accounts.txt", bytes(64 << 20), 100)]))


# --- Ente Auth encrypted export ---------------------------------------------------------------

def ente_seal(plaintext, password, salt, mem_limit, ops_limit):
    """Ente's encryptData: one secretstream message tagged FINAL under an Argon2id key."""
    key = nacl.pwhash.argon2id.kdf(32, password.encode(), salt, opslimit=ops_limit,
                                   memlimit=mem_limit)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    ciphertext = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, plaintext, tag=sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    return header, ciphertext


def ente_files():
    salt = bytes(range(16))
    plaintext = ("\n".join(ENTE_LINES)).encode()
    mem_limit, ops_limit = 8 * 1024 * 1024, 2
    path = os.path.join(OUT, "ente", "ente-encrypted.json")
    # libsodium's secretstream draws its header inside init_push, so the file is written
    # once and kept: rerunning only rewrites it when the plaintext or settings changed.
    settings = {"memLimit": mem_limit, "opsLimit": ops_limit,
                "salt": base64.b64encode(salt).decode()}
    if os.path.exists(path):
        old = json.load(open(path))
        key = nacl.pwhash.argon2id.kdf(32, ENTE_PASSWORD.encode(), salt, opslimit=ops_limit,
                                       memlimit=mem_limit)
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(
            state, base64.b64decode(old["encryptionNonce"]), key)
        try:
            message, _ = sodium.crypto_secretstream_xchacha20poly1305_pull(
                state, base64.b64decode(old["encryptedData"]))
        except Exception:
            message = None
        if message == plaintext and old["kdfParams"] == settings:
            return
    header, ciphertext = ente_seal(plaintext, ENTE_PASSWORD, salt, mem_limit, ops_limit)
    envelope = {"version": 1, "kdfParams": settings,
                "encryptedData": base64.b64encode(ciphertext).decode(),
                "encryptionNonce": base64.b64encode(header).decode()}
    write("ente/ente-encrypted.json", json.dumps(envelope).encode())
    hostile = dict(envelope, kdfParams=dict(settings, memLimit=4 << 30, opsLimit=4))
    write("ente/ente-hostile-kdf.json", json.dumps(hostile).encode())


def write(relative, data):
    path = os.path.join(OUT, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    OUT = sys.argv[1]
    for folder in ("raivo", "authenticator-plus", "ente"):
        os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    raivo_zip()
    authplus_zip()
    hostile_zips()
    ente_files()
