"""Writes the Stratum (Authenticator Pro), Proton Authenticator and Proton Pass import
fixtures with Python's standard library (json, sqlite3, zipfile, hashlib), `cryptography`
and `argon2-cffi` — implementations independent of Countersign's — following each app's
published source (docs/formats/stratum-proton.md). Salts, IVs and nonces are fixed, so the
files are reproducible; the outputs are committed:

    python core/tests/reference/make_stratum_proton_fixtures.py core/tests/fixtures/import

Also reads exports back (`read` subcommand), as the apps would, for the export tests:

    python make_stratum_proton_fixtures.py read stratum FILE [PASSWORD]
    python make_stratum_proton_fixtures.py read proton-authenticator FILE [PASSWORD]

printing one JSON line per account: kind, issuer, label, secret (hex), algorithm, digits,
period, counter, tags, and for Yandex.Key and mOTP the PIN and the code at CODE_TIME
(computed by otp_kinds_reference.py, the independent reference of those kinds).
"""
import base64
import hashlib
import io
import json
import os
import sqlite3
import sys
import tempfile
import zipfile

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otp_kinds_reference import motp_code, yandex_code  # noqa: E402

# The time at which the reader gives Yandex.Key and mOTP codes (the export tests use it).
CODE_TIME = 1_800_000_007

STRATUM_PASSWORD = "stratum-fixture-password"
PROTON_PASSWORD = "proton-fixture-password"

# The accounts' secrets (raw bytes); the tests hold the same values as hex.
GITHUB = b"12345678901234567890"
EXAMPLE = bytes(range(1, 33))
STEAM = bytes.fromhex("0102030405060708090a0b0c0d0e0f1011121314")
BANK = bytes(range(0xA0, 0xC0)) + bytes(range(0x10, 0x30))
BASE64_STEAM = bytes.fromhex("fbff00112233445566778899aabbccddeeff0011")


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def category_id(name):
    return hashlib.sha1(name.encode()).hexdigest()[:8]


# ---------------------------------------------------------------- Stratum

def stratum_authenticators():
    """Authenticator.cs fields; Type: 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex;
    Algorithm: 0 SHA-1, 1 SHA-256, 2 SHA-512."""
    def auth(kind, issuer, username, secret, algorithm=0, digits=6, period=30, counter=0,
             icon=None, pin=None):
        return {"Type": kind, "Icon": icon, "Issuer": issuer, "Username": username,
                "Secret": secret, "Pin": pin, "Algorithm": algorithm, "Digits": digits,
                "Period": period, "Counter": counter, "CopyCount": 3, "Ranking": 0}
    return [
        auth(2, "GitHub", "alice@example.com", b32(GITHUB), icon="github"),
        auth(1, "Example", "bob", b32(EXAMPLE), algorithm=1, digits=8, counter=42),
        auth(4, "Steam", "carol", b32(STEAM), digits=5),
        auth(2, "Bank", None, b32(BANK), algorithm=2, digits=10, period=60, icon="@custom"),
        auth(3, "Motp", "dave", "0123456789abcdef", pin="1234"),
        auth(5, "Yandex", "erin", b32(bytes(range(16))), pin="5678"),
        auth(2, "Broken", "frank", "not base32!"),
        auth(2, "Algo", "gina", b32(GITHUB[:10]), algorithm=7),
        # The same account again: reported as a duplicate within the file.
        auth(2, "GitHub", "alice@example.com", b32(GITHUB), icon="github"),
    ]


def stratum_backup():
    work, personal = category_id("Work"), category_id("Personal")
    return {
        "Authenticators": stratum_authenticators(),
        "Categories": [{"Id": work, "Name": "Work", "Ranking": 0},
                       {"Id": personal, "Name": "Personal", "Ranking": 1}],
        "AuthenticatorCategories": [
            {"CategoryId": work, "AuthenticatorSecret": b32(GITHUB), "Ranking": 0},
            {"CategoryId": work, "AuthenticatorSecret": b32(BANK), "Ranking": 1},
            {"CategoryId": personal, "AuthenticatorSecret": b32(BANK), "Ranking": 0},
            {"CategoryId": "missing0", "AuthenticatorSecret": b32(STEAM), "Ranking": 0},
        ],
        "CustomIcons": [],
    }


def stratum_argon2(password, salt):
    # StrongBackupEncryption: Argon2id, 3 iterations, 65536 KiB, parallelism 4, 32 bytes.
    return hash_secret_raw(password.encode(), salt, time_cost=3, memory_cost=65536,
                           parallelism=4, hash_len=32, type=Type.ID)


def stratum_encrypt(plain, password, salt, iv):
    key = stratum_argon2(password, salt)
    return b"AUTHENTICATORPRO" + salt + iv + AESGCM(key).encrypt(iv, plain, None)


def stratum_encrypt_legacy(plain, password, salt, iv):
    # LegacyBackupEncryption: PBKDF2-HMAC-SHA1 64000, AES-256-CBC, PKCS#7.
    key = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, 64000, 32)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b"AuthenticatorPro" + salt + iv + encryptor.update(padded) + encryptor.finalize()


def stratum_database(path):
    """The app's sqlite-net schema (Entity/*.cs): table and column names as declared."""
    db = sqlite3.connect(path)
    # Small pages keep the file small enough to be a fuzzing seed too.
    db.execute("pragma page_size = 512")
    db.executescript("""
        create table if not exists "authenticator"(
            "type" integer, "icon" varchar, "issuer" varchar(32), "username" varchar(40),
            "secret" varchar primary key not null, "pin" varchar, "algorithm" integer,
            "digits" integer, "period" integer, "counter" bigint, "copy_count" integer,
            "ranking" integer);
        create table if not exists "category"(
            "id" varchar(8) primary key not null, "name" varchar(32), "ranking" integer);
        create table if not exists "authenticatorcategory"(
            "categoryId" varchar, "authenticatorSecret" varchar, "ranking" integer);
    """)
    backup = stratum_backup()
    # The database keys authenticators by secret: the duplicate cannot be stored twice.
    for a in backup["Authenticators"][:-1]:
        db.execute('insert into "authenticator" values (?,?,?,?,?,?,?,?,?,?,?,?)',
                   (a["Type"], a["Icon"], a["Issuer"], a["Username"], a["Secret"], a["Pin"],
                    a["Algorithm"], a["Digits"], a["Period"], a["Counter"], a["CopyCount"],
                    a["Ranking"]))
    for c in backup["Categories"]:
        db.execute('insert into "category" values (?,?,?)', (c["Id"], c["Name"], c["Ranking"]))
    for link in backup["AuthenticatorCategories"]:
        db.execute('insert into "authenticatorcategory" values (?,?,?)',
                   (link["CategoryId"], link["AuthenticatorSecret"], link["Ranking"]))
    db.commit()
    db.execute("vacuum")
    db.close()


def write_stratum(folder):
    os.makedirs(folder, exist_ok=True)
    plain = json.dumps(stratum_backup(), indent=1).encode()
    open(os.path.join(folder, "stratum-plain.json"), "wb").write(plain)
    compact = json.dumps(stratum_backup(), separators=(",", ":")).encode()
    encrypted = stratum_encrypt(compact, STRATUM_PASSWORD, bytes(range(16)), bytes(range(100, 112)))
    open(os.path.join(folder, "stratum-encrypted.authpro"), "wb").write(encrypted)
    legacy = stratum_encrypt_legacy(compact, STRATUM_PASSWORD, bytes(range(20)),
                                    bytes(range(200, 216)))
    open(os.path.join(folder, "stratum-legacy.authpro"), "wb").write(legacy)
    path = os.path.join(folder, "stratum.db3")
    if os.path.exists(path):
        os.remove(path)
    stratum_database(path)


# ---------------------------------------------------------------- Proton Authenticator

def proton_entries():
    def entry(ident, uri, entry_type, name, note=None):
        return {"id": ident, "content": {"uri": uri, "entry_type": entry_type, "name": name},
                "note": note}
    return [
        entry("e0", "otpauth://totp/alice%40example.com?secret=" + b32(GITHUB)
              + "&issuer=GitHub&algorithm=SHA1&digits=6&period=30", "Totp",
              "alice@example.com", "recovery codes in the safe"),
        entry("e1", "otpauth://totp/My%20Account?secret=" + b32(EXAMPLE)
              + "&issuer=My+Bank&algorithm=SHA256&digits=8&period=15", "Totp", "My Account"),
        entry("e2", "steam://" + b32(STEAM), "Steam", "carol"),
        entry("e3", "steam://" + base64.b64encode(BASE64_STEAM).decode().rstrip("="), "Steam",
              "steam-base64"),
        entry("e4", "otpauth://totp/?secret=" + b32(BANK) + "&algorithm=SHA512&digits=6&period=30",
              "Totp", "Bank login"),
        entry("e5", "otpauth://hotp/x?secret=" + b32(GITHUB) + "&counter=1", "Hotp", "hotp"),
        entry("e6", "otpauth://totp/broken?secret=1!", "Totp", "broken"),
    ]


def proton_plain():
    return json.dumps({"version": 1, "entries": proton_entries()}).encode()


def proton_key(password, salt):
    # derive_password_key: Argon2id v0x13, m = 19 MiB, t = 2, p = 1, 32 bytes.
    return hash_secret_raw(password.encode(), salt, time_cost=2, memory_cost=19 * 1024,
                           parallelism=1, hash_len=32, type=Type.ID)


AAD = b"proton.authenticator.export.v1"


def proton_protect(plain, password, salt, nonce):
    sealed = nonce + AESGCM(proton_key(password, salt)).encrypt(nonce, plain, AAD)
    return json.dumps({"version": 1, "salt": base64.b64encode(salt).decode(),
                       "content": base64.b64encode(sealed).decode()}).encode()


def write_proton_authenticator(folder):
    os.makedirs(folder, exist_ok=True)
    plain = proton_plain()
    open(os.path.join(folder, "proton-authenticator.json"), "wb").write(plain)
    protected = proton_protect(plain, PROTON_PASSWORD, bytes(range(32, 48)), bytes(range(12)))
    open(os.path.join(folder, "proton-authenticator-protected.json"), "wb").write(protected)


# ---------------------------------------------------------------- Proton Pass

def pass_item(item_id, kind, name, note="", totp="", username="", extra=()):
    content = {"itemEmail": "", "itemUsername": username, "password": "pw", "urls": [],
               "totpUri": totp, "passkeys": []} if kind == "login" else {}
    return {"itemId": item_id, "shareId": "share", "state": 1, "aliasEmail": None,
            "contentFormatVersion": 6, "createTime": 1700000000, "modifyTime": 1700000000,
            "pinned": False,
            "data": {"metadata": {"name": name, "note": note, "itemUuid": item_id},
                     "extraFields": [{"fieldName": f, "type": t, "data": d} for f, t, d in extra],
                     "type": kind, "content": content}}


def proton_pass_data():
    personal = [
        pass_item("i0", "login", "GitHub", note="work account", username="alice",
                  totp="otpauth://totp/GitHub:alice?secret=" + b32(GITHUB)
                  + "&issuer=GitHub&algorithm=SHA1&digits=6&period=30"),
        pass_item("i1", "login", "Forum", username="bob", totp=b32(EXAMPLE)),
        pass_item("i2", "login", "No 2FA", username="carol"),
        pass_item("i3", "note", "A note"),
    ]
    work = [
        pass_item("i4", "login", "Bank", username="dave", extra=[
            ("PIN", "hidden", {"content": "1234"}),
            ("Backup TOTP", "totp", {"totpUri": "otpauth://totp/Bank:dave?secret=" + b32(BANK)
                                     + "&algorithm=SHA256&digits=8&period=60"}),
            ("Malformed totp", "totp", {"totpUri": "otpauth://totp/x?secret=!!"}),
        ]),
    ]
    return {"version": "1.21.2", "userId": "user", "encrypted": False,
            "vaults": {"share-a": {"name": "Personal", "description": "", "items": personal},
                       "share-b": {"name": "Work", "description": "", "items": work}}}


def write_proton_pass(folder):
    data = json.dumps(proton_pass_data(), indent=1).encode()
    open(os.path.join(folder, "proton-pass-data.json"), "wb").write(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("Proton Pass/data.json", date_time=(2025, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
    open(os.path.join(folder, "proton-pass.zip"), "wb").write(buffer.getvalue())
    write_zip_bombs(folder)
    # A stand-in for the PGP-encrypted export: only its armour matters (it is refused).
    open(os.path.join(folder, "proton-pass-encrypted.pgp"), "w").write(
        "-----BEGIN PGP MESSAGE-----\n\nwy4ECQMIfixtureonlynotarealmessage\n"
        "-----END PGP MESSAGE-----\n")


def write_zip_bombs(folder):
    """17 MiB of zeros as `Proton Pass/data.json`, deflated to a few KB: once declaring its
    true size, once with both size fields patched to claim 1,000 bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("Proton Pass/data.json", date_time=(2025, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"0" * (17 * 1024 * 1024))
    bomb = buffer.getvalue()
    open(os.path.join(folder, "proton-pass-bomb.zip"), "wb").write(bomb)
    liar = bytearray(bomb)
    liar[22:26] = (1000).to_bytes(4, "little")  # local header: uncompressed size
    central = bomb.rindex(b"PK\x01\x02")
    liar[central + 24:central + 28] = (1000).to_bytes(4, "little")
    open(os.path.join(folder, "proton-pass-bomb-liar.zip"), "wb").write(bytes(liar))


# ---------------------------------------------------------------- reading exports back

ALGORITHMS = {0: "SHA1", 1: "SHA256", 2: "SHA512"}
KINDS = {1: "hotp", 2: "totp", 3: "motp", 4: "steam", 5: "yandex"}


def b32decode(text):
    return base64.b32decode(text + "=" * (-len(text) % 8))


def read_stratum(data, password):
    """StrongBackupEncryption.DecryptAsync, then the Authenticator fields."""
    if data.startswith(b"AUTHENTICATORPRO"):
        salt, iv, sealed = data[16:32], data[32:44], data[44:]
        data = AESGCM(stratum_argon2(password, salt)).decrypt(iv, sealed, None)
    backup = json.loads(data)
    names = {c["Id"]: c["Name"] for c in backup["Categories"]}
    tags = {}
    for link in backup["AuthenticatorCategories"]:
        tags.setdefault(link["AuthenticatorSecret"], []).append(names[link["CategoryId"]])
    for a in backup["Authenticators"]:
        kind = KINDS[a["Type"]]
        key, code = stratum_key_and_code(kind, a["Secret"], a["Pin"])
        yield {"kind": kind, "issuer": a["Issuer"], "label": a["Username"] or "",
               "secret": key.hex(), "algorithm": ALGORITHMS[a["Algorithm"]],
               "digits": a["Digits"], "period": a["Period"] if kind != "hotp" else None,
               "counter": a["Counter"] if kind == "hotp" else None,
               "tags": tags.get(a["Secret"], []), "pin": a["Pin"], "code": code}


def stratum_key_and_code(kind, secret, pin):
    """The secret's bytes and, for Yandex.Key and mOTP, the code at CODE_TIME as Stratum
    computes it: MobileOtp hashes the secret text as stored (the reference hashes the
    lower-case hex of the bytes: the same text when it is lower case); YandexOtp keys with
    the first 16 bytes of the base32 secret."""
    if kind == "motp":
        assert secret == secret.lower(), "Stratum would hash this mOTP secret as written"
        key = bytes.fromhex(secret)
        return key, motp_code(key, pin, CODE_TIME)
    key = b32decode(secret)
    if kind == "yandex":
        return key, yandex_code(key[:16], pin, CODE_TIME)
    return key, None


def read_proton_authenticator(data, password):
    """import_entries_with_password, then TOTP::from_uri / SteamTotp::new_from_uri."""
    from urllib.parse import parse_qs, unquote, urlsplit
    export = json.loads(data)
    if "salt" in export:
        salt = base64.b64decode(export["salt"])
        sealed = base64.b64decode(export["content"])
        data = AESGCM(proton_key(password, salt)).decrypt(sealed[:12], sealed[12:], AAD)
        export = json.loads(data)
    assert export["version"] == 1
    for entry in export["entries"]:
        content = entry["content"]
        uri = content["uri"]
        if content["entry_type"] == "Steam":
            yield {"kind": "steam", "issuer": "Steam", "label": content["name"],
                   "secret": b32decode(uri[len("steam://"):]).hex(), "algorithm": "SHA1",
                   "digits": 5, "period": 30, "counter": None, "note": entry["note"]}
            continue
        parts = urlsplit(uri)
        assert parts.scheme == "otpauth" and parts.netloc == "totp"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        yield {"kind": "totp", "issuer": query.get("issuer"),
               "label": unquote(parts.path[1:]).split(":")[-1],
               "secret": b32decode(query["secret"]).hex(), "algorithm": query["algorithm"],
               "digits": int(query["digits"]), "period": int(query["period"]), "counter": None,
               "note": entry["note"]}


def main():
    if sys.argv[1] == "read":
        fmt, path = sys.argv[2], sys.argv[3]
        password = sys.argv[4] if len(sys.argv) > 4 else None
        data = open(path, "rb").read()
        reader = read_stratum if fmt == "stratum" else read_proton_authenticator
        for account in reader(data, password):
            print(json.dumps(account, sort_keys=True))
        return
    root = sys.argv[1]
    write_stratum(os.path.join(root, "stratum"))
    proton = os.path.join(root, "proton")
    os.makedirs(proton, exist_ok=True)
    write_proton_authenticator(proton)
    write_proton_pass(proton)


if __name__ == "__main__":
    main()
