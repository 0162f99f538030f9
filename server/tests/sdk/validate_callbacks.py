"""Checks OneTouch callbacks with the official Authy Python SDK's own validator
(`OneTouch.validate_one_touch_signature`, PyPI `authy` 2.2.6), unchanged.

    python validate_callbacks.py API_KEY < callbacks.jsonl

Each input line is {"signature", "nonce", "method", "url", "body"}: a callback as the app's
endpoint received it. Prints one line per callback: "true" or "false".
"""
import json
import sys

from authy.api import AuthyApiClient

one_touch = AuthyApiClient(sys.argv[1]).one_touch
for line in sys.stdin:
    callback = json.loads(line)
    valid = one_touch.validate_one_touch_signature(
        callback["signature"],
        callback["nonce"],
        callback["method"],
        callback["url"],
        callback["body"],
    )
    print("true" if valid is True else "false")
