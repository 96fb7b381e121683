"""Sign a JSON event file with JOURNEY_WEBHOOK_SECRET (Standard Webhooks) and POST it, like a CRM would.

    python3 scripts/send_event.py examples/deal_signed.json [--url http://127.0.0.1:8000] [--id msg_1]
Only the standard library, so it runs with any Python 3.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--id", default=None, help="webhook-id (the delivery id); random by default")
    args = parser.parse_args()
    secret = os.environ.get("JOURNEY_WEBHOOK_SECRET")
    if not secret:
        print("set JOURNEY_WEBHOOK_SECRET (whsec_...)", file=sys.stderr)
        return 2
    body = open(args.file, "rb").read()
    msg_id, ts = args.id or f"msg_{uuid.uuid4().hex}", int(time.time())
    key = base64.b64decode(secret.strip().removeprefix("whsec_") + "==")  # padded or not, as the reference library
    sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    request = urllib.request.Request(args.url.rstrip("/") + "/webhooks/events", data=body, method="POST", headers={
        "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{sig}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the URL is the user's own
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as exc:
        print(exc.code, exc.read().decode())
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
