"""Drives a running Countersign server with the official Authy Python SDK (PyPI `authy`
2.2.6), unchanged, constructed with `api_uri` pointing at the server.

    python authy_flow.py API_URI API_KEY CALLBACK_PORT CA_FILE|- OUTBOX_COMMAND...

The outbox command prints the messages the server's `log` sender delivered (JSON); codes
sent by SMS are read from it, as a phone would receive them. Over TLS the caller points
`REQUESTS_CA_BUNDLE` at the test CA (CA_FILE only says that the server speaks TLS). A device
registered by the Rust test approves every approval request whose message is "Approve payment"
and denies those saying "Deny payment".
One line per call: `python <method> ok` or `python <method> FAILED <why>`.
"""
import http.server
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse

import pyotp
from authy.api import AuthyApiClient

api_uri, api_key, callback_port, ca_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
outbox_command = sys.argv[5:]
callback_url = "http://127.0.0.1:%d/authy/callback" % callback_port
received = []
passed = 0
failed = 0


class Callbacks(http.server.BaseHTTPRequestHandler):
    """Records each callback as (headers, params, method): the JSON body of a POST, or the
    query of a GET as the flat dict a web framework hands over."""

    def record(self, params):
        received.append(({k.lower(): v for k, v in self.headers.items()}, params, self.command))
        self.send_response(200)
        self.end_headers()

    def do_POST(self):
        self.record(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

    def do_GET(self):
        self.record(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)))

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", callback_port), Callbacks)
threading.Thread(target=server.serve_forever, daemon=True).start()


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print("python %s ok" % name)
    else:
        failed += 1
        print("python %s FAILED %s" % (name, detail))


def wait_for_callback(uuid, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for headers, body, method in received:
            if body.get("uuid") == uuid:
                return headers, body, method
        time.sleep(0.2)
    return None


def last_code(recipient):
    messages = json.loads(subprocess.check_output(outbox_command))
    for message in reversed(messages):
        if message["recipient"] == recipient:
            return re.findall(r"\d{4,10}", message["text"])[-1]
    return None


authy = AuthyApiClient(api_key, api_uri=api_uri)
check("version", authy.version() == "2.2.6", authy.version())

user = authy.users.create("luna@hogwarts.example", "351-338-9310", 54)
check("users.create", user.ok() and isinstance(user.id, int), user.content)
again = authy.users.create("luna@hogwarts.example", "351 338 9310", 54, send_install_link_via_sms=True)
check("users.create twice gives the same id", again.id == user.id, again.content)
bad = authy.users.create("not-an-email", "12", 54)
check("users.create invalid", not bad.ok() and bad.errors().get("email") == "is invalid", bad.content)

sms = authy.users.request_sms(user.id, {"force": True})
check("request_sms", sms.ok() and sms["message"] == "SMS token was sent" and not sms.ignored(), sms.content)
code = last_code("+543513389310")
check("the SMS holds a 7-digit code", code is not None and len(code) == 7, code)

verification = authy.tokens.verify(user.id, code)
check("tokens.verify valid", verification.ok(), verification.content)
wrong = str((int(code) + 1) % 10**7).zfill(7)
invalid = authy.tokens.verify(user.id, wrong)
check("tokens.verify invalid", not invalid.ok() and invalid["error_code"] == "60020", invalid.content)
replayed = authy.tokens.verify(user.id, code, {"force": "false"})
check("tokens.verify replayed", not replayed.ok(), replayed.content)

call = authy.users.request_call(user.id, {"force": True})
check("request_call", call.ok() and call["success"] is True and not call.ignored(), call.content)
plain_call = authy.users.request_call(user.id)
check("request_call (a registered app: ignored)", plain_call.ok() and plain_call.ignored(), plain_call.content)
plain_sms = authy.users.request_sms(user.id)
check("request_sms (a registered app: ignored)", plain_sms.ok() and plain_sms.ignored(), plain_sms.content)

registration = authy.users.registration_status("not-a-known-custom-id")
check("registration_status unknown", not registration.ok() and registration.errors(), registration.content)

status = authy.users.status(user.id)
check("users.status", status.ok() and status["status"]["authy_id"] == user.id and status["status"]["confirmed"] is True
      and status["status"]["registered"] is True and len(status["status"]["devices"]) == 1, status.content)

qr = authy.users.generate_qr(user.id, size=200, label="hermione")
check("generate_qr", qr.ok() and qr.content["qr_code"].startswith("data:image/png;base64,"), qr.content)
totp = pyotp.parse_uri(qr.content["uri"])
authenticator = authy.tokens.verify(user.id, totp.now())
check("an authenticator code from the QR verifies", authenticator.ok(), authenticator.content)

# Nobody answers "Sign in to Gringotts": one request stays pending (its 10 minutes cannot run
# out during the test, however slow the machine), another expires after a second.
waiting = authy.one_touch.send_request(user.id, "Sign in to Gringotts",
                                       details={"Amount": "713.00 EUR", "Payee": "Hermione Granger"},
                                       hidden_details={"ip": "10.0.0.1"})
check("one_touch.send_request", waiting.ok() and waiting.get_uuid() and waiting.status() is True, waiting.content)
pending = authy.one_touch.get_approval_status(waiting.get_uuid())
check("get_approval_status pending", pending.ok() and pending["approval_request"]["status"] == "pending", pending.content)
request = authy.one_touch.send_request(user.id, "Sign in to Gringotts", seconds_to_expire=1)
uuid = request.get_uuid()
check("one_touch.send_request (expiring)", request.ok() and uuid, request.content)
expired_callback = wait_for_callback(uuid)
expired = authy.one_touch.get_approval_status(uuid)
check("get_approval_status expired", expired["approval_request"]["status"] == "expired", expired.content)
check("a callback arrived for the expired request", expired_callback is not None, received)


def validate_callback(name, callback, uuid, status):
    headers, body, method = callback
    signature, nonce = headers["x-authy-signature"], headers["x-authy-signature-nonce"]
    valid = authy.one_touch.validate_one_touch_signature(signature, nonce, method, callback_url, body)
    check(name + " " + method, valid is True and body["uuid"] == uuid and body["status"] == status, body)
    forged = dict(body, status="denied" if status != "denied" else "approved")
    tampered = authy.one_touch.validate_one_touch_signature(signature, nonce, method, callback_url, forged)
    check(name + " rejects a tampered body", tampered is False)


if expired_callback:
    validate_callback("validate_one_touch_signature (expired)", expired_callback, uuid, "expired")

logos = [{"res": "default", "url": "https://gringotts.example/logo.png"},
         {"res": "low", "url": "https://gringotts.example/logo-low.png"}]
approval = authy.one_touch.send_request(user.id, "Approve payment", seconds_to_expire=120,
                                        details={"Amount": "713.00 EUR"}, hidden_details={"ip": "10.0.0.1"},
                                        logos=logos)
approval_uuid = approval.get_uuid()
check("one_touch.send_request (logos)", approval.ok() and approval_uuid, approval.content)
approved_callback = wait_for_callback(approval_uuid) if approval_uuid else None
check("a callback arrived for the approved request", approved_callback is not None, received)
approved = authy.one_touch.get_approval_status(approval_uuid)
check("get_approval_status approved", approved.ok() and approved["approval_request"]["status"] == "approved",
      approved.content)
if approved_callback:
    validate_callback("validate_one_touch_signature (approved)", approved_callback, approval_uuid, "approved")

denial = authy.one_touch.send_request(user.id, "Deny payment", details={"Amount": "9,999.00 EUR"})
denial_uuid = denial.get_uuid()
check("one_touch.send_request (to be denied)", denial.ok() and denial_uuid, denial.content)
denied_callback = wait_for_callback(denial_uuid) if denial_uuid else None
check("a callback arrived for the denied request", denied_callback is not None, received)
denied = authy.one_touch.get_approval_status(denial_uuid)
check("get_approval_status denied", denied.ok() and denied["approval_request"]["status"] == "denied", denied.content)
if denied_callback:
    validate_callback("validate_one_touch_signature (denied)", denied_callback, denial_uuid, "denied")

start = authy.phones.verification_start("351-338-9311", "54", via="sms", code_length=6)
check("phones.verification_start", start.ok() and start["success"] is True, start.content)
phone_code = last_code("+543513389311")
bad_check = authy.phones.verification_check("351-338-9311", "54", "000000" if phone_code != "000000" else "111111")
check("phones.verification_check wrong", not bad_check.ok() and bad_check["error_code"] == "60022", bad_check.content)
good_check = authy.phones.verification_check("351-338-9311", "54", phone_code)
check("phones.verification_check", good_check.ok(), good_check.content)
info = authy.phones.info("351-338-9311", "54")
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
print("python (%s): %d passed, %d failed" % ("http" if ca_file == "-" else "https", passed, failed))
sys.exit(1 if failed else 0)
