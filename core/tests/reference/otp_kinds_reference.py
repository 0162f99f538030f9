"""Independent reference for Yandex.Key and mOTP codes, written from the published
descriptions (docs/formats/otp-kinds.md), not from the Rust code.

As a filter (the differential test): one JSON request per line on stdin, one answer per line
on stdout. Requests:
  {"kind": "yandex", "key": HEX, "pin": TEXT, "time": UNIX}  -> 8 letters
  {"kind": "motp",   "key": HEX, "pin": TEXT, "time": UNIX}  -> 6 hex characters
  {"kind": "yandex-full", "key": HEX16, "extra": HEX8, "nibble": 0..15}
                                                             -> HEX26 with its checksum
As a module: yandex_code, motp_code, yandex_full_secret for the fixture generator.
As a reader of a plain Aegis vault (the exporter's independent check):
  python otp_kinds_reference.py aegis-codes FILE UNIX
prints, as JSON, every yandex and motp entry with the code this file computes from it.
"""
import hashlib
import hmac
import json
import string
import sys

YANDEX_PERIOD = 30
YANDEX_LENGTH = 8
MOTP_PERIOD = 10
MOTP_LENGTH = 6
# x^12 + x^11 + x^7 + x^6 + x^5 + x^4 + x + 1, the checksum's generator.
YANDEX_POLY = (1 << 12) | (1 << 11) | (1 << 7) | (1 << 6) | (1 << 5) | (1 << 4) | (1 << 1) | 1


def yandex_code(key: bytes, pin: str, unix_time: int) -> str:
    """HMAC-SHA256 under SHA256(pin || key) (without a leading zero byte) over the 30 s
    counter, 63 bits picked by the last nibble, modulo 26^8 in letters a-z."""
    derived = hashlib.sha256(pin.encode("utf-8") + key).digest()
    if derived[0] == 0:
        derived = derived[1:]
    counter = (unix_time // YANDEX_PERIOD).to_bytes(8, "big")
    mac = hmac.new(derived, counter, hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 8], "big") & ((1 << 63) - 1)
    number %= 26 ** YANDEX_LENGTH
    letters = []
    for _ in range(YANDEX_LENGTH):
        number, digit = divmod(number, 26)
        letters.append(string.ascii_lowercase[digit])
    return "".join(reversed(letters))


def motp_code(key: bytes, pin: str, unix_time: int) -> str:
    """First 6 hex characters of MD5(str(time // 10) + hex(secret) + pin)."""
    text = str(unix_time // MOTP_PERIOD) + key.hex() + pin
    return hashlib.md5(text.encode("utf-8")).hexdigest()[:MOTP_LENGTH]


def gf2_remainder(value: int, bits: int, poly: int) -> int:
    """value (a polynomial over GF(2) of `bits` coefficients) modulo poly, by long division."""
    degree = poly.bit_length() - 1
    for shift in range(bits - 1, degree - 1, -1):
        if value >> shift & 1:
            value ^= poly << (shift - degree)
    return value


def yandex_full_secret(key16: bytes, extra8: bytes, nibble: int) -> bytes:
    """The 26-byte form: 16 key bytes, 8 more, 4 more bits (`nibble`), then 12 checksum bits
    in the rest of the last 2 bytes."""
    assert len(key16) == 16 and len(extra8) == 8 and 0 <= nibble < 16
    head = key16 + extra8 + bytes([nibble << 4, 0])
    # The message is every bit before the 12 checksum bits: 26*8 - 12 = 196 bits.
    message = int.from_bytes(head, "big") >> 12
    checksum = gf2_remainder(message, 26 * 8 - 12, YANDEX_POLY)
    whole = (message << 12) | checksum
    return whole.to_bytes(26, "big")


def answer(req):
    kind = req["kind"]
    if kind == "yandex":
        return yandex_code(bytes.fromhex(req["key"]), req["pin"], req["time"])
    if kind == "motp":
        return motp_code(bytes.fromhex(req["key"]), req["pin"], req["time"])
    if kind == "yandex-full":
        key, extra = bytes.fromhex(req["key"]), bytes.fromhex(req["extra"])
        return yandex_full_secret(key, extra, req["nibble"]).hex()
    raise ValueError(kind)


def self_check():
    """The published vectors (Aegis YAOTPTest.java / MOTPTest.java) hold here too."""
    import base64
    full = base64.b32decode("LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI" + "======")
    assert yandex_full_secret(full[:16], full[16:24], full[24] >> 4) == full
    assert yandex_code(full[:16], "7586", 1581064020) == "oactmacq"
    assert motp_code(bytes.fromhex("e3152afee62599c8"), "1234", 165892298) == "e7d8b6"


def aegis_codes(path, unix_time):
    """Reads a plain Aegis vault as Aegis's OtpInfo.fromJson does for these two types."""
    import base64
    vault = json.load(open(path))
    out = []
    for e in vault["db"]["entries"]:
        info = e["info"]
        secret = info["secret"]
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        if e["type"] == "yandex":
            assert (info["algo"], info["digits"], info["period"]) == ("SHA256", 8, 30)
            code = yandex_code(key[:16], info["pin"], unix_time)
        elif e["type"] == "motp":
            assert (info["algo"], info["digits"], info["period"]) == ("MD5", 6, 10)
            code = motp_code(key, info["pin"], unix_time)
        else:
            continue
        out.append({"issuer": e["issuer"], "label": e["name"], "type": e["type"], "code": code})
    return out


if __name__ == "__main__":
    self_check()
    if sys.argv[1:2] == ["aegis-codes"]:
        print(json.dumps(aegis_codes(sys.argv[2], int(sys.argv[3]))))
        sys.exit(0)
    for line in sys.stdin:
        if line.strip():
            print(answer(json.loads(line)), flush=False)
