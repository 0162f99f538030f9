"""Drives a running Countersign server with the official Authy Python SDK (PyPI `authy`
2.2.6), unchanged, constructed with `api_uri` pointing at the server.

    python authy_flow.py API_URI API_KEY CALLBACK_PORT OUTBOX_COMMAND...

The outbox command prints the messages the server's `log` sender delivered (JSON); codes
sent by SMS are read from it, as a phone would receive them.
"""
import http.server
import json
import re
import subprocess
import sys
import threading
import time

import pyotp
from authy.api import AuthyApiClient

api_uri, api_key, callback_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
outbox_command = sys.argv[4:]
callback_url = "http://127.0.0.1:%d/authy/callback" % callback_port
received = []
passed = 0
failed = 0


class Callbacks(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", callback_port), Callbacks)
threading.Thread(target=server.serve_forever, daemon=True).start()


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + " " + str(detail))


def last_code(recipient):
    messages = json.loads(subprocess.check_output(outbox_command))
    for message in reversed(messages):
        if message["recipient"] == recipient:
            return re.findall(r"\d{4,10}", message["text"])[-1]
    return None


authy = AuthyApiClient(api_key, api_uri=api_uri)

user = authy.users.create("hermione@hogwarts.example", "317-338-9302", 54)
check("users.create", user.ok() and isinstance(user.id, int), user.content)
again = authy.users.create("hermione@hogwarts.example", "317 338 9302", 54)
check("users.create twice gives the same id", again.id == user.id, again.content)
bad = authy.users.create("not-an-email", "12", 54)
check("users.create invalid", not bad.ok() and bad.errors().get("email") == "is invalid", bad.content)

sms = authy.users.request_sms(user.id, {"force": True})
check("request_sms", sms.ok() and sms["message"] == "SMS token was sent" and not sms.ignored(), sms.content)
code = last_code("+543173389302")
check("the SMS holds a 7-digit code", code is not None and len(code) == 7, code)

verification = authy.tokens.verify(user.id, code)
check("tokens.verify valid", verification.ok(), verification.content)
wrong = str((int(code) + 1) % 10**7).zfill(7)
invalid = authy.tokens.verify(user.id, wrong)
check("tokens.verify invalid", not invalid.ok() and invalid["error_code"] == "60020", invalid.content)
replayed = authy.tokens.verify(user.id, code)
check("tokens.verify replayed", not replayed.ok(), replayed.content)

status = authy.users.status(user.id)
check("users.status", status.ok() and status["status"]["authy_id"] == user.id and status["status"]["confirmed"] is True, status.content)

qr = authy.users.generate_qr(user.id, size=200, label="hermione")
check("generate_qr", qr.ok() and qr.content["qr_code"].startswith("data:image/png;base64,"), qr.content)
totp = pyotp.parse_uri(qr.content["uri"])
authenticator = authy.tokens.verify(user.id, totp.now())
check("an authenticator code from the QR verifies", authenticator.ok(), authenticator.content)

request = authy.one_touch.send_request(user.id, "Approve payment", seconds_to_expire=1,
                                       details={"Amount": "713.00 EUR", "Payee": "Hermione Granger"},
                                       hidden_details={"ip": "10.0.0.1"})
uuid = request.get_uuid()
check("one_touch.send_request", request.ok() and uuid, request.content)
pending = authy.one_touch.get_approval_status(uuid)
check("get_approval_status pending", pending.ok() and pending["approval_request"]["status"] == "pending", pending.content)
deadline = time.time() + 15
while not received and time.time() < deadline:
    time.sleep(0.2)
expired = authy.one_touch.get_approval_status(uuid)
check("get_approval_status expired", expired["approval_request"]["status"] == "expired", expired.content)
check("a callback arrived", len(received) == 1, received)
if received:
    headers, body = received[0]
    signature, nonce = headers["x-authy-signature"], headers["x-authy-signature-nonce"]
    valid = authy.one_touch.validate_one_touch_signature(signature, nonce, "POST", callback_url, body)
    check("validate_one_touch_signature", valid is True and body["uuid"] == uuid and body["status"] == "expired", body)
    body["status"] = "approved"
    forged = authy.one_touch.validate_one_touch_signature(signature, nonce, "POST", callback_url, body)
    check("a tampered callback fails validation", forged is False)

start = authy.phones.verification_start("317-338-9303", "54", via="sms", code_length=6)
check("phones.verification_start", start.ok() and start["success"] is True, start.content)
phone_code = last_code("+543173389303")
bad_check = authy.phones.verification_check("317-338-9303", "54", "000000" if phone_code != "000000" else "111111")
check("phones.verification_check wrong", not bad_check.ok() and bad_check["error_code"] == "60022", bad_check.content)
good_check = authy.phones.verification_check("317-338-9303", "54", phone_code)
check("phones.verification_check", good_check.ok(), good_check.content)
info = authy.phones.info("317-338-9303", "54")
check("phones.info", info.ok(), info.content)

details = authy.apps.fetch()
check("apps.fetch", details.ok() and details["app"]["name"] == "Gringotts", details.content)
stats = authy.stats.fetch()
check("stats.fetch", stats.ok() and stats["stats"][0]["sms_count"] >= 1, stats.content)

deleted = authy.users.delete(user.id)
check("users.delete", deleted.ok(), deleted.content)
gone = authy.users.status(user.id)
check("a deleted user is gone", not gone.ok() and gone.response.status_code == 404, gone.content)

server.shutdown()
print("sdk: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
