"""Builders for test data: signed webhook deliveries, team members with tokens, draining the inbox."""
from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

from journey.webhooks.signatures import sign

BASE_EVENT: dict[str, Any] = {
    "type": "deal.signed", "timestamp": "2026-11-20T14:03:00Z",
    "data": {
        "deal": {"id": "D-1001", "name": "Acme - Platform", "amount": "48000.00", "currency": "EUR",
                 "signed_at": "2026-11-20T13:55:00Z", "contract_start": "2026-12-01", "contract_end": "2027-11-30",
                 "expected_go_live": "2027-01-15", "seats": 120},
        "account": {"id": "C-77", "name": "Société Acme — Ünïcødé 🚀", "domain": "acme.example",
                    "segment": "mid_market", "region": "FR", "timezone": "Europe/Paris"},
        "owners": {"ae": {"email": "ae@vendor.example", "name": "Alice AE"}, "se": None,
                   "csm": {"email": "csm@vendor.example", "name": "Camille CSM"},
                   "am": {"email": "am@vendor.example", "name": "Morgan AM"}},
        "objectives": [{"title": "Réduire le temps d'intégration des agents", "kpi": "days to first ticket",
                        "baseline": 21, "target": 7, "unit": "days", "due": "2027-06-01",
                        "source": "customer_validated"}],
        "stakeholders": [{"name": "Chloé Martin", "email": "chloe@acme.example", "title": "COO",
                          "role": "executive_sponsor"}],
        "notes": {"why_bought": "Onboarding too slow", "alternatives": "Zendesk", "promises": ["SSO in Q1"],
                  "risks": ["IT capacity"], "technical_scope": "SSO, CRM sync"}}}


def deal_signed(deal_id: str = "D-1001", account_id: str = "C-77", **data_over: Any) -> dict[str, Any]:
    event = copy.deepcopy(BASE_EVENT)
    event["data"]["deal"]["id"] = deal_id
    event["data"]["account"]["id"] = account_id
    for key, value in data_over.items():
        if isinstance(value, dict) and isinstance(event["data"].get(key), dict):
            event["data"][key].update(value)
        else:
            event["data"][key] = value
    return event


def event(type_: str, data: dict[str, Any], timestamp: str = "2026-11-21T10:00:00Z") -> dict[str, Any]:
    return {"type": type_, "timestamp": timestamp, "data": data}


def signed_headers(body: bytes, msg_id: str | None = None, ts: int | None = None, secret: str | None = None
                   ) -> dict[str, str]:
    from tests.conftest import WEBHOOK_SECRET

    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    ts = int(time.time()) if ts is None else ts
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "content-type": "application/json",
            "webhook-signature": sign(secret=secret or WEBHOOK_SECRET, msg_id=msg_id, timestamp=ts, body=body)}


def post_event(client, payload: dict[str, Any], msg_id: str | None = None):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    return client.post("/webhooks/events", content=body, headers=signed_headers(body, msg_id))


def drain() -> list[str]:
    """Process every due inbox event inline, the way the embedded runner does; their outcomes."""
    from flows.events import process_event
    from flows.runner import claim_batch
    from journey.config import get_settings

    outcomes = []
    while batch := claim_batch(50):
        outcomes += [process_event(i, t, settings=get_settings()) for i, t in batch]
    return outcomes


def member_with_token(email: str, role: str, name: str | None = None) -> dict[str, str]:
    """Headers of an API token for the member, created (or, when a CRM named them, allowed to sign in) first."""
    from journey import db
    from journey.team import repository, service

    with db.transaction() as session:
        existing = repository.by_email(session, email)
        if existing is None:
            service.create_member(session, email=email, name=name or email.split("@")[0], role=role)
        elif not existing.can_sign_in:
            existing.can_sign_in = True  # as an admin would (journey users enable)
        # ten years: tests that move the clock months ahead are not about token expiry (test_api_tokens is)
        token = service.create_token(session, email=email, days=3650)
    return {"Authorization": f"Bearer {token}"}


WEB_PASSWORD = "correct horse battery staple"


def member_with_password(email: str, role: str, name: str | None = None, timezone: str = "UTC") -> None:
    """A team member who can sign in to the web UI with WEB_PASSWORD."""
    from journey import db
    from journey.team import repository, service

    with db.transaction() as session:
        if repository.by_email(session, email) is None:
            service.create_member(session, email=email, name=name or email.split("@")[0], role=role,
                                  password=WEB_PASSWORD, timezone=timezone)


def form_fields(html: str) -> dict[str, list[str]]:
    """Every input, textarea and select of a page as the browser would send them back (current values)."""
    import re

    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data.setdefault(name, []).append(value)
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        data.setdefault(name, []).append(body)
    for name, options in re.findall(r'<select name="([^"]+)">(.*?)</select>', html):
        chosen = re.search(r'<option value="([^"]+)" selected', options)
        data.setdefault(name, []).append(chosen.group(1) if chosen else "")
    return data


def web_csrf(client, path: str = "/signin", action: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the form posting to `action` on a page (else the first form's)."""
    import re

    html = client.get(path).text
    if action is not None:
        start = html.find(f'action="{action}"')
        assert start >= 0, f"no form posting to {action} on {path}"
        html = html[start:]
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match and match.group(1), f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = WEB_PASSWORD):  # type: ignore[no-untyped-def]
    """Sign the TestClient in through the real form; the response of the POST."""
    return client.post("/signin", data={"email": email, "password": password, "csrf_token": web_csrf(client)},
                       follow_redirects=False)
