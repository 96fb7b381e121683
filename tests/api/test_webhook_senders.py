"""`POST /webhooks/events` signed by real senders: the Standard Webhooks reference library and Svix's,
with every secret form they accept, and Svix's default `svix-*` header names."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks
from typer.testing import CliRunner

from tests.builders import deal_signed

pytestmark = pytest.mark.usefixtures("db_url")

KEY = bytes(range(200, 232))
STD, URLSAFE = base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode()
SECRETS = {
    "padded": "whsec_" + STD,
    "unpadded": "whsec_" + STD.rstrip("="),
    "no prefix": STD,
    "no prefix, unpadded": STD.rstrip("="),
    "Svix dashboard (24 bytes)": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
SENDERS = {"standardwebhooks": standardwebhooks.Webhook, "svix": svix.webhooks.Webhook}


def _post(client, monkeypatch, *, secret: str, signer, prefix: str):  # type: ignore[no-untyped-def]
    from journey.config import get_settings

    monkeypatch.setenv("JOURNEY_WEBHOOK_SECRET", secret)
    get_settings.cache_clear()
    body = json.dumps(deal_signed()).encode()
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(int(now.timestamp())),
               f"{prefix}-signature": signer.sign(msg_id, now, body.decode()), "content-type": "application/json"}
    return client.post("/webhooks/events", content=body, headers=headers)


@pytest.mark.parametrize("form", list(SECRETS))
@pytest.mark.parametrize("sender", list(SENDERS))
def test_real_senders_are_accepted_with_every_secret_form(client, monkeypatch, sender, form) -> None:
    secret = SECRETS[form]
    r = _post(client, monkeypatch, secret=secret, signer=SENDERS[sender](secret), prefix="webhook")
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("sender", list(SENDERS))
def test_svix_header_names_are_accepted(client, monkeypatch, sender) -> None:
    secret = SECRETS["padded"]
    r = _post(client, monkeypatch, secret=secret, signer=SENDERS[sender](secret), prefix="svix")
    assert r.status_code == 202, r.text


def test_a_url_safe_secret_verifies_the_bytes_it_encodes(client, monkeypatch) -> None:
    assert "-" in URLSAFE and "_" in URLSAFE
    signer = standardwebhooks.Webhook(base64.urlsafe_b64decode(URLSAFE))  # a sender that decodes it as URL-safe
    r = _post(client, monkeypatch, secret="whsec_" + URLSAFE.rstrip("="), signer=signer, prefix="webhook")
    assert r.status_code == 202, r.text


def test_a_wrong_secret_is_still_refused(client, monkeypatch) -> None:
    signer = standardwebhooks.Webhook(base64.b64encode(b"x" * 32).decode())
    r = _post(client, monkeypatch, secret=SECRETS["unpadded"], signer=signer, prefix="svix")
    assert r.status_code == 401


def test_an_invalid_secret_turns_the_route_off_without_a_500(client, monkeypatch) -> None:
    r = _post(client, monkeypatch, secret="whsec_not base64!", signer=standardwebhooks.Webhook(KEY),
              prefix="webhook")
    assert r.status_code == 404
    assert "JOURNEY_WEBHOOK_SECRET" in r.json()["detail"]


def test_config_check_and_serve_refuse_an_invalid_secret(monkeypatch) -> None:
    import uvicorn

    from journey.cli import app

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    monkeypatch.setenv("JOURNEY_WEBHOOK_SECRET", "whsec_AAAA=AAAA")
    check = CliRunner().invoke(app, ["config", "check"])
    assert check.exit_code == 1
    assert "JOURNEY_WEBHOOK_SECRET: the webhook secret must be base64" in check.output
    serve = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert (serve.exit_code, started) == (2, [])
    assert serve.output.strip().splitlines() == [
        "error: JOURNEY_WEBHOOK_SECRET: the webhook secret must be base64 (standard or URL-safe, padded or not), "
        "optionally prefixed with 'whsec_'"]


def test_config_check_accepts_an_unpadded_secret(monkeypatch) -> None:
    from journey.cli import app

    monkeypatch.setenv("JOURNEY_WEBHOOK_SECRET", SECRETS["no prefix, unpadded"])
    assert CliRunner().invoke(app, ["config", "check"]).exit_code == 0
