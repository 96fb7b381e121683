"""Sign a JSON event file like a CRM would (Standard Webhooks) and POST it to a running journey.

    python3 scripts/send_event.py examples/deal_signed.json [--url http://127.0.0.1:8000] [--id msg_1]

It finds the server and its secret the way `journey serve` does, from the folder you run it in: the secret is
JOURNEY_WEBHOOK_SECRET (environment, then .env), else the data folder's `webhook_secret` (JOURNEY_DATA_DIR,
default ./var; `make run` generates it there); the address is --url, else the one the running server wrote into
the data folder's `server_url`, else http://127.0.0.1:8000. Only the standard library: any Python 3 runs it.
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
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def dotenv(path: Path = Path(".env")) -> dict[str, str]:
    """`KEY=VALUE` lines of a .env file (as journey's settings read it), quotes removed; {} without one."""
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def setting(name: str, env: dict[str, str]) -> str | None:
    return os.environ.get(name) or env.get(name) or None


def find_secret(data_dir: Path, env: dict[str, str]) -> str | None:
    secret = setting("JOURNEY_WEBHOOK_SECRET", env)
    if secret:
        return secret
    file = data_dir / "webhook_secret"
    return file.read_text().strip() if file.is_file() else None


def find_url(given: str | None, data_dir: Path) -> str:
    if given:
        return given
    file = data_dir / "server_url"
    return file.read_text().strip() if file.is_file() else DEFAULT_URL


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    text = secret.strip().removeprefix("whsec_") + "=="  # padded or not, as the reference library
    key = base64.urlsafe_b64decode(text) if "-" in text or "_" in text else base64.b64decode(text)
    return "v1," + base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body,
                                             hashlib.sha256).digest()).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the JSON event, e.g. examples/deal_signed.json")
    parser.add_argument("--url", default=None, help=f"journey's address (default: the running server's, or "
                                                    f"{DEFAULT_URL})")
    parser.add_argument("--id", default=None, help="webhook-id (the delivery id); random by default")
    args = parser.parse_args(argv)
    env = dotenv()
    data_dir = Path(setting("JOURNEY_DATA_DIR", env) or "./var")
    secret = find_secret(data_dir, env)
    if not secret:
        print(f"error: no webhook secret: set JOURNEY_WEBHOOK_SECRET or start journey once with `make run` (it "
              f"writes {data_dir / 'webhook_secret'})", file=sys.stderr)
        return 2
    try:
        body = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    url = find_url(args.url, data_dir).rstrip("/")
    msg_id, ts = args.id or f"msg_{uuid.uuid4().hex}", int(time.time())
    request = urllib.request.Request(url + "/webhooks/events", data=body, method="POST", headers={
        "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the URL is the user's own
            print(response.status, response.read().decode())
    except urllib.error.HTTPError as exc:
        print(exc.code, exc.read().decode())
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"error: nothing answers at {url} ({reason}): start journey with `make run` in another terminal, "
              f"or give its address with --url", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
