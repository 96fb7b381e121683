"""The demo workspace: a team and three signed deals sent through the real webhook route, signed.

Opt-in (`JOURNEY_DEMO=1`, which `make run` sets, or `journey demo`), development only, and only into an empty
database: its password is published.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import typer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from journey import db
from journey.config import Settings, get_settings
from journey.errors import JourneyError
from journey.files import write_private_once
from journey.kit import utcnow
from journey.kpis import opportunities
from journey.kpis import service as kpis_service
from journey.models import Account, TeamMember
from journey.team import repository as team_repository
from journey.team import service as team_service
from journey.webhooks.signatures import sign

DEMO_PASSWORD = "journey-demo-2026"  # noqa: S105 - a published demo login, printed at start
DEMO_ADMIN = "admin@demo.example"
DEMO_TEAM = [
    ("ae@demo.example", "Alice Martin", "ae", "Europe/Paris"),
    ("se@demo.example", "Sam Okafor", "se", "Europe/London"),
    ("csm@demo.example", "Camille Durand", "csm", "Europe/Paris"),
    ("csm.us@demo.example", "Chris Walker", "csm", "America/New_York"),
    ("am@demo.example", "Morgan Lee", "am", "Europe/Paris"),
    ("am.us@demo.example", "Ana Souza", "am", "America/New_York"),
    ("manager@demo.example", "Max Keller", "manager", "Europe/Berlin"),
    ("admin@demo.example", "Ada Admin", "admin", "UTC"),
    ("revops@demo.example", "Rita Olsen", "revops", "Europe/Paris"),
]
# The AM's opportunities on the demo accounts: (account number, title, amount, stage)
DEMO_OPPORTUNITIES = [(1, "Second support team (120 seats)", 36000, "proposed"), (1, "Analytics add-on", 9000, "won"),
                      (2, "Premium SLA", 6000, "open")]


DEMO_DOMAINS = {1: "globex.example", 2: "sge.example", 3: "initech.example"}
# Three health profiles, sent through POST /api/signals once the journeys exist: green, yellow, red.
DEMO_SIGNALS: dict[int, dict[str, float]] = {
    1: {"active_users": 720, "seats": 900, "logins_7d": 3100, "feature_adoption": 0.72, "nps": 45, "csat": 4.6,
        "csm_sentiment": 4, "support_tickets_open": 2, "escalation_open": 0, "invoice_overdue_days": 0},
    2: {"active_users": 64, "seats": 120, "logins_7d": 210, "feature_adoption": 0.41, "nps": 10, "csat": 3.8,
        "csm_sentiment": 3, "support_tickets_open": 7, "escalation_open": 0, "invoice_overdue_days": 0},
    3: {"active_users": 6, "seats": 25, "logins_7d": 9, "feature_adoption": 0.12, "nps": -30, "csat": 2.4,
        "csm_sentiment": 2, "support_tickets_open": 11, "escalation_open": 1, "invoice_overdue_days": 41},
}


def demo_signals() -> dict[str, Any]:
    """A week of daily measurements per demo account, the last one today."""
    now = utcnow()
    items = []
    for n, metrics in DEMO_SIGNALS.items():
        for days_ago in range(7, -1, -1):
            at = (now - timedelta(days=days_ago)).replace(microsecond=0).isoformat()
            for metric, value in metrics.items():
                items.append({"id": f"demo-{n}-{metric}-{days_ago}", "account": f"crm:events:DEMO-ACC-{n}",
                              "metric": metric, "value": value, "at": at})
    return {"items": items}


def demo_deals() -> list[dict[str, Any]]:
    today = utcnow().date()
    signed_at = (utcnow() - timedelta(days=3)).isoformat()

    def deal(n: int, segment: str, name: str, region: str, tz: str, csm: str, am: str, amount: str,
             seats: int, go_live_days: int, objectives: list[dict[str, Any]]) -> dict[str, Any]:
        domain = DEMO_DOMAINS[n]
        return {"type": "deal.signed", "timestamp": signed_at, "data": {
            "deal": {"id": f"DEMO-{n}", "name": f"{name} - Platform", "amount": amount, "currency": "EUR",
                     "signed_at": signed_at, "contract_start": str(today + timedelta(days=7)),
                     "contract_end": str(today + timedelta(days=372)),
                     "expected_go_live": str(today + timedelta(days=go_live_days)), "seats": seats},
            "account": {"id": f"DEMO-ACC-{n}", "name": name, "domain": domain,
                        "segment": segment, "region": region, "timezone": tz},
            "owners": {"ae": {"email": "ae@demo.example", "name": "Alice Martin"},
                       "se": {"email": "se@demo.example", "name": "Sam Okafor"},
                       "csm": {"email": csm}, "am": {"email": am}},
            "objectives": objectives,
            "stakeholders": [
                {"name": "Chloé Bernard", "email": f"chloe@{domain}", "title": "COO",
                 "role": "executive_sponsor"},
                {"name": "Yacine Benali", "email": f"yacine@{domain}",
                 "title": "Head of Support Operations", "role": "champion"}],
            "notes": {"why_bought": "Onboarding new support agents takes three weeks; leadership wants one.",
                      "alternatives": "Zendesk, an in-house tool", "promises": ["SSO with Okta in Q1"],
                      "risks": ["IT team at capacity until February"],
                      "technical_scope": "SSO (Okta), CRM sync, ticket import"}}}

    return [
        deal(1, "enterprise", "Globex Corporation", "US", "America/New_York", "csm.us@demo.example",
             "am.us@demo.example", "240000.00", 900, 80,
             [{"title": "Cut time to first resolved ticket for new agents", "kpi": "days", "baseline": 21,
               "target": 7, "unit": "days", "due": str(today + timedelta(days=180)),
               "source": "customer_validated"}]),
        deal(2, "mid_market", "Société Générale d'Exemple", "FR", "Europe/Paris", "csm@demo.example",
             "am@demo.example", "48000.00", 120, 45,
             [{"title": "Réduire le temps d'intégration des agents", "kpi": "jours", "baseline": 21,
               "target": 7, "unit": "jours", "due": str(today + timedelta(days=150)),
               "source": "customer_validated"},
              {"title": "Raise self-service rate", "kpi": "self-service %", "baseline": 30, "target": 55,
               "unit": "%", "due": str(today + timedelta(days=270)), "source": "sales_assumed"}]),
        deal(3, "smb", "Initech Ltd", "GB", "Europe/London", "csm@demo.example", "am@demo.example",
             "9600.00", 25, 20, []),
    ]


class DemoRefused(JourneyError):
    status_code = 409
    code = "demo_refused"


def is_loaded(session: Session) -> bool:
    """Whether the demo team is in this database (its published password works)."""
    return team_repository.by_email(session, DEMO_ADMIN) is not None


def _is_empty(session: Session) -> bool:
    return not session.scalar(select(exists().where(TeamMember.id.is_not(None)))) and not session.scalar(
        select(exists().where(Account.id.is_not(None))))


def login_visible() -> bool:
    """The sign-in page shows the demo login only in development with JOURNEY_DEMO on, once the demo is loaded."""
    settings = get_settings()
    if not (settings.demo and settings.is_development):
        return False
    with db.transaction(writer=False) as session:
        return is_loaded(session)


def _create_team() -> str:
    """The demo team and an admin API token (printed once), only into an empty database in development.

    A database with any team member or account is real data: a published password never joins it.
    """
    if not get_settings().is_development:
        raise DemoRefused("the demo has a published password: it loads only with JOURNEY_ENVIRONMENT=development")
    with db.transaction() as session:
        if not _is_empty(session):
            raise DemoRefused("the database already has team members or accounts: the demo loads only into an "
                              "empty one")
        for email, name, role, tz in DEMO_TEAM:
            team_service.create_member(session, email=email, name=name, role=role, password=DEMO_PASSWORD,
                                       timezone=tz)
        return team_service.create_token(session, email=DEMO_ADMIN, label="demo")


def _send_deals(post: Callable[[bytes, dict[str, str]], int]) -> list[int]:
    secret = get_settings().webhook_secret
    if not secret:
        raise SystemExit("the demo needs JOURNEY_WEBHOOK_SECRET (journey serve generates one)")
    codes = []
    for event in demo_deals():
        body = json.dumps(event, ensure_ascii=False).encode()
        msg_id, ts = f"msg_demo_{uuid.uuid4().hex}", int(time.time())
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "content-type": "application/json",
                   "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body)}
        codes.append(post(body, headers))
    return codes


def _weekly_review() -> None:
    """Opportunities for the AM, then 12 weeks of KPI snapshots so the weekly review has a history."""
    now = utcnow()
    with db.transaction() as session:
        ids = {n: session.scalar(select(Account.id).where(Account.domain == domain))
               for n, domain in DEMO_DOMAINS.items()}
        for n, title, amount, stage in DEMO_OPPORTUNITIES:
            if ids.get(n) is not None:
                opportunities.raise_opportunity(session, account_id=ids[n], title=title, source="manual",
                                                amount=Decimal(amount), stage=stage, now=now)
        kpis_service.backfill(session, weeks=12, now=now)


def _announce(base: str, token: str) -> None:
    typer.echo(f"\ndemo workspace loaded: sign in at {base} as csm@demo.example / {DEMO_PASSWORD}\n"
               f"  (also ae@, am@, manager@, admin@, revops@demo.example, same password)\n"
               f"  API: curl -H 'Authorization: Bearer {token}' {base}/api/accounts\n")


def load_demo_when_ready(base: str) -> None:
    """From `journey serve`: wait for the server, then post the demo deals to it like a CRM would."""
    import httpx

    for _ in range(200):
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    with db.transaction(writer=False) as session:
        loaded = is_loaded(session)
    if loaded:
        typer.echo(f"demo workspace already loaded: sign in at {base} as csm@demo.example / {DEMO_PASSWORD}")
        return
    try:
        token = _create_team()
    except DemoRefused as exc:
        typer.secho(f"demo: not loaded: {exc.detail}", fg="yellow", err=True)
        return
    _send_deals(lambda body, headers: httpx.post(base + "/webhooks/events", content=body, headers=headers,
                                                 timeout=30).status_code)
    _announce(base, token)
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(600):  # the journeys open in the background; signals need their accounts
        r = httpx.get(base + "/api/accounts", headers=auth, timeout=10)
        if r.status_code == 200 and len(r.json()["items"]) >= len(DEMO_SIGNALS):
            break
        time.sleep(0.5)
    r = httpx.post(base + "/api/signals", json=demo_signals(), headers=auth, timeout=60)
    typer.echo("demo: usage signals loaded, health scored" if r.status_code == 200 else
               f"demo: signals not loaded ({r.status_code}: {r.text[:200]})", err=r.status_code != 200)
    _weekly_review()


def ensure_webhook_secret(settings: Settings) -> None:
    """The demo needs a signing secret: generate one into the data folder if none is configured."""
    if settings.webhook_secret:
        return
    path = settings.data_dir / "webhook_secret"
    secret = write_private_once(path, "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ["JOURNEY_WEBHOOK_SECRET"] = secret
    get_settings.cache_clear()
    typer.echo(f"webhook secret: generated into {path} (set JOURNEY_WEBHOOK_SECRET to use your own)")


def load_demo_inline(*, create_app: Callable[..., Any], drain: Callable[[], list[tuple[int, str, str]]]) -> None:
    """`journey demo`: post through the app (`create_app`) in-process, then run the flows until the inbox is
    drained (`drain`: the runner's, which the command hands over)."""
    from fastapi.testclient import TestClient  # lazy: only `journey demo` needs the test client (httpx)

    token = _create_team()  # refused outside development or into a database with data, before anything is written
    ensure_webhook_secret(get_settings())
    with TestClient(create_app(start_runner=False)) as client:
        codes = _send_deals(lambda body, headers: client.post("/webhooks/events", content=body,
                                                              headers=headers).status_code)
    typer.echo(f"demo deals sent: {codes}")
    for event_id, event_type, outcome in drain():
        typer.echo(f"event {event_id} {event_type}: {outcome}")
    with TestClient(create_app(start_runner=False)) as client:
        r = client.post("/api/signals", json=demo_signals(), headers={"Authorization": f"Bearer {token}"})
        typer.echo(f"demo signals: {r.status_code} {r.text[:200]}")
    _weekly_review()
    _announce("http://127.0.0.1:8000", token)
